// The trend-against-target chart of a series (hand-written SVG, no chart
// library), shared by the indicator page and a warning's page:
//
//   halfsky.trendChart(box, {title, unit, from, to,
//                            lines: [{name, main, points: [{year, value, incomplete}]}],
//                            targets: [{year, value, textZh}]})
//
// draws into `box` (emptied first): one line per series (the main one
// solid), each target as a dashed red level up to its year, an incomplete
// point (a figure of only some areas) hollow, a <title> on every point and
// target, and an HTML legend. Returns the number of points drawn (also the
// svg's data-points).
'use strict';
(function () {
  var SVG = 'http://www.w3.org/2000/svg';
  var COLORS = ['#8c1d2c', '#1d4f8c', '#1b6e1b', '#e67e00', '#6a3d9a', '#555555', '#b15928', '#0b7a75'];
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function num(x) { return String(Math.round(x * 1000) / 1000); }

  // A short line in the series' colour for the legend.
  function swatch(color, main) {
    var s = svg('svg', { width: 24, height: 10, viewBox: '0 0 24 10', 'aria-hidden': 'true' });
    s.appendChild(svg('line', { x1: 0, x2: 24, y1: 5, y2: 5, stroke: color, 'stroke-width': main ? 3 : 2, 'stroke-dasharray': main ? '' : '4 3' }));
    return s;
  }

  halfsky.trendChart = function (box, o) {
    box.textContent = '';
    var unit = o.unit || '';
    function figure(x) { return unit ? num(x) + ' ' + unit : num(x); }
    var from = o.from || 2020;
    var to = o.to || 2030;
    var lines = o.lines || [];
    var values = [];
    lines.forEach(function (l) { l.points.forEach(function (p) { values.push(p.value); from = Math.min(from, p.year); to = Math.max(to, p.year); }); });
    var tv = (o.targets || []).filter(function (t) { return t.value !== undefined && t.year; });
    tv.forEach(function (t) { values.push(t.value); });
    if (!values.length) {
      box.appendChild(halfsky.el('p', { 'class': 'meta', text: '暂无数据可画 / nothing to draw' }));
      return 0;
    }
    var lo = Math.min.apply(null, values);
    var hi = Math.max.apply(null, values);
    var pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
    // Round ticks: a step of 1, 2 or 5 × 10^n, four or five of them.
    var raw = (hi - lo + 2 * pad) / 4;
    var mag = Math.pow(10, Math.floor(Math.log(raw) / Math.LN10));
    var step = [1, 2, 5, 10].map(function (m) { return m * mag; }).filter(function (x) { return x >= raw; })[0];
    lo = Math.max(0, Math.floor((lo - pad) / step) * step);
    hi = Math.ceil((hi + pad) / step) * step;
    var ticks = Math.round((hi - lo) / step);
    var W = 640, H = 300, left = 56, right = 16, top = 16, bottom = 40;
    function x(year) { return left + (year - from) / Math.max(1, to - from) * (W - left - right); }
    function y(v) { return top + (hi - v) / (hi - lo) * (H - top - bottom); }
    var title = (o.title || '') + '（' + from + '—' + to + '年）';
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title, 'data-points': '0' });
    s.appendChild(svg('title', {}, title));
    // Axes and grid.
    for (var i = 0; i <= ticks; i++) {
      var v = lo + step * i;
      s.appendChild(svg('line', { x1: left, x2: W - right, y1: y(v), y2: y(v), stroke: '#ddd', 'stroke-width': 1 }));
      s.appendChild(svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#444' }, num(v)));
    }
    for (var yr = from; yr <= to; yr++) {
      if ((to - from) > 12 && (yr - from) % 2) { continue; }
      s.appendChild(svg('text', { x: x(yr), y: H - bottom + 16, 'text-anchor': 'middle', 'font-size': 11, fill: '#444' }, String(yr)));
    }
    s.appendChild(svg('line', { x1: left, x2: left, y1: top, y2: H - bottom, stroke: '#888' }));
    s.appendChild(svg('line', { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, stroke: '#888' }));
    if (unit) { s.appendChild(svg('text', { x: 4, y: top + 4, 'font-size': 11, fill: '#444' }, unit)); }
    // Targets: a dashed level up to the target year, marked there.
    tv.forEach(function (t) {
      var g = svg('g', { 'class': 'target', 'data-target-year': String(t.year) });
      g.appendChild(svg('line', { x1: left, x2: x(t.year), y1: y(t.value), y2: y(t.value), stroke: '#c00000', 'stroke-dasharray': '6 4', 'stroke-width': 1.5 }));
      g.appendChild(svg('path', { d: 'M' + x(t.year) + ' ' + (y(t.value) - 6) + ' l6 6 l-6 6 l-6 -6 z', fill: '#c00000' }));
      g.appendChild(svg('text', { x: Math.min(x(t.year), W - right) - 4, y: y(t.value) - 9, 'text-anchor': 'end', 'font-size': 11, fill: '#c00000' },
          t.year + '年目标 ' + figure(t.value)));
      g.appendChild(svg('title', {}, t.year + '年目标：' + (t.textZh || figure(t.value))));
      s.appendChild(g);
    });
    // Lines, one per group; an incomplete point is hollow (a part).
    var drawn = 0;
    lines.forEach(function (l, li) {
      var color = COLORS[li % COLORS.length];
      var pts = l.points.slice().sort(function (a, b) { return a.year - b.year; });
      if (pts.length > 1) {
        s.appendChild(svg('polyline', { points: pts.map(function (p) { return x(p.year) + ',' + y(p.value); }).join(' '),
          fill: 'none', stroke: color, 'stroke-width': l.main ? 2.5 : 1.5, 'stroke-dasharray': l.main ? '' : '4 3' }));
      }
      pts.forEach(function (p) {
        var c = svg('circle', { cx: x(p.year), cy: y(p.value), r: l.main ? 4.5 : 3.5, stroke: color, 'stroke-width': 2,
          fill: p.incomplete ? '#fff' : color, 'class': 'point', 'data-year': String(p.year), 'data-incomplete': p.incomplete ? 'yes' : 'no' });
        c.appendChild(svg('title', {}, l.name + ' ' + p.year + '年：' + figure(p.value) +
            (p.incomplete ? '（数据不完整，部分）' : '')));
        s.appendChild(c);
        drawn++;
      });
    });
    s.setAttribute('data-points', String(drawn));
    box.appendChild(s);
    // The legend as HTML (wraps on a phone).
    var legend = halfsky.el('ul', { 'class': 'legend meta' });
    lines.forEach(function (l, li) {
      legend.appendChild(halfsky.el('li', {}, [
        swatch(COLORS[li % COLORS.length], l.main),
        ' ' + l.name
      ]));
    });
    legend.appendChild(halfsky.el('li', { text: '┄ 红色虚线：规划目标；空心点：数据不完整（部分） / dashed red: target; hollow: incomplete' }));
    box.appendChild(legend);
    return drawn;
  };
})();
