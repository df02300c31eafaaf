// The warnings board: ListWarnings (every page), red first, filtered by
// domain / area / kind / unit / state, kept live by WatchWarnings (Server-Sent
// Events). Every word of an enum comes from /api/labels.
'use strict';
(function () {
  var L = null;          // labels
  var catalog = null;    // halfsky.v1.Catalog (names of areas, units)
  var warnings = {};     // id → Warning (JSON mapping)
  var source = null;     // EventSource of the watch

  function label(type, name, field) {
    var t = L['halfsky.v1.' + type] || {};
    var v = t[name] || {};
    return v[field || 'zh'] || name || '';
  }
  function number(type, name) {
    var v = (L['halfsky.v1.' + type] || {})[name];
    return v ? v.number : 0;
  }

  function filter() {
    var f = {};
    var d = document.getElementById('f-domain').value;
    var a = document.getElementById('f-area').value;
    var k = document.getElementById('f-kind').value;
    var s = document.getElementById('f-state').value;
    var u = document.getElementById('f-unit').value;
    if (u) { f.responsibleUnitCode = u; }
    if (d) { f.domainId = d; }
    // An area filters to it and every area below it (a city: its districts
    // and their towns), as `halfskyctl warnings --area` does.
    if (a) { f.areaCode = a; f.includeSubareas = true; }
    if (k) { f.kind = k; }
    if (s) { f.state = s; }
    return f;
  }

  function areaName(code) {
    var areas = (catalog && catalog.areas) || [];
    for (var i = 0; i < areas.length; i++) { if (areas[i].code === code) { return areas[i].nameZh; } }
    return code || '';
  }

  function unitName(code) {
    var units = (catalog && catalog.memberUnits) || [];
    for (var i = 0; i < units.length; i++) { if (units[i].code === code) { return units[i].nameZh; } }
    return code || '';
  }

  // Red first, then orange, yellow; then indicator, area, id.
  function compare(a, b) {
    var s = number('Severity', b.severity) - number('Severity', a.severity);
    if (s !== 0) { return s; }
    var ka = (a.indicatorId || '') + ' ' + (a.areaCode || '') + ' ' + a.id;
    var kb = (b.indicatorId || '') + ' ' + (b.areaCode || '') + ' ' + b.id;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }

  function card(w) {
    var sev = label('Severity', w.severity, 'token');
    var title = w.indicatorNameZh || w.indicatorId ||
        (w.unitCode ? '单位 ' + w.unitCode + ' ' + (w.dataYear || '') + '年数据' : w.id);
    var meta = [areaName(w.areaCode), label('WarningKind', w.kind), label('ProgressStatus', w.status)]
        .filter(function (x) { return x; }).join(' · ');
    var li = halfsky.el('li', { 'class': 'warning ' + sev, 'data-id': w.id, 'data-severity': sev }, [
      halfsky.el('div', {}, [
        halfsky.el('span', { 'class': 'badge ' + sev, text: label('Severity', w.severity, 'short_zh') || label('Severity', w.severity) }),
        halfsky.el('a', { 'class': 'name', href: '/warning?id=' + encodeURIComponent(w.id) }, [
          halfsky.el('strong', { text: title })
        ])
      ]),
      halfsky.el('div', { 'class': 'meta', text: meta }),
      halfsky.el('p', { text: w.explanationZh || '' })
    ]);
    var facts = [];
    if (w.firingSince) { facts.push('预警起始 ' + halfsky.formatTime(w.firingSince)); }
    if (w.responsibleUnitCodes && w.responsibleUnitCodes.length) {
      facts.push('责任单位 ' + w.responsibleUnitCodes.map(unitName).join('、'));
    }
    if (w.daysOverdue) { facts.push('逾期 ' + w.daysOverdue + ' 天'); }
    if (w.acknowledgement) { facts.push('已确认：' + w.acknowledgement.note + '（' + w.acknowledgement.by + '）'); }
    if (facts.length) { li.appendChild(halfsky.el('div', { 'class': 'meta', text: facts.join(' · ') })); }
    if (w.indicatorId) {
      li.appendChild(halfsky.el('div', { 'class': 'meta' }, [halfsky.el('a', { 'class': 'indicator',
        href: '/indicator?id=' + encodeURIComponent(w.indicatorId) + (w.areaCode ? '&area=' + encodeURIComponent(w.areaCode) : ''),
        text: '指标 ' + w.indicatorId + ' 的解释与数据 / indicator' })]));
    }
    return li;
  }

  function render() {
    var list = Object.keys(warnings).map(function (id) { return warnings[id]; }).sort(compare);
    var ul = document.getElementById('warnings');
    // Built off the document, then put in at once: one layout for the board.
    var cards = document.createDocumentFragment();
    list.forEach(function (w) { cards.appendChild(card(w)); });
    ul.textContent = '';
    ul.appendChild(cards);
    var red = list.filter(function (w) { return w.severity === 'SEVERITY_RED'; }).length;
    var status = document.getElementById('status');
    status.className = 'status';
    var a = document.getElementById('f-area').value;
    var scope = a ? areaName(a) + '及其下级区域的' : '';
    status.textContent = '共 ' + list.length + ' 条' + scope + '预警，其中红色 ' + red + ' 条 / ' + list.length + ' warnings, ' + red + ' red' +
        (a ? ' (' + a + ' and every area below it)' : '');
    document.body.setAttribute('data-rendered', String(list.length));
    // The browser test times the board by this mark (tests/web/web_a11y_test.cc).
    if (window.performance && performance.mark) { performance.mark('halfsky-board-rendered'); }
  }

  function loadPage(f, token, acc) {
    var req = Object.assign({ pageSize: 1000 }, f);
    if (token) { req.pageToken = token; }
    return halfsky.call('halfsky.v1.EvaluationService/ListWarnings', req).then(function (r) {
      (r.warnings || []).forEach(function (w) { acc[w.id] = w; });
      return r.nextPageToken ? loadPage(f, r.nextPageToken, acc) : acc;
    });
  }

  function watch(f) {
    if (source) { source.close(); }
    if (typeof EventSource === 'undefined') { return; }
    source = new EventSource('/api/v1/halfsky.v1.EvaluationService/WatchWarnings?request=' +
        encodeURIComponent(JSON.stringify({ filter: f })));
    source.onmessage = function (e) {
      var ev = JSON.parse(e.data);
      if (!ev.warning || !ev.warning.id) { return; }
      if (ev.type === 'WARNING_EVENT_TYPE_RESOLVED' && !f.state) {
        delete warnings[ev.warning.id];
      } else {
        warnings[ev.warning.id] = ev.warning;
      }
      if (ev.type !== 'WARNING_EVENT_TYPE_CURRENT') { render(); }
    };
    source.addEventListener('error', function (e) {
      if (e.data) { source.close(); halfsky.showError(document.getElementById('status'), JSON.parse(e.data)); }
    });
  }

  // ?live=0: no watch stream (a snapshot: printing, headless rendering).
  var live = new URLSearchParams(location.search).get('live') !== '0';

  function load() {
    var f = filter();
    return loadPage(f, '', {}).then(function (all) {
      warnings = all;
      render();
      if (live) { watch(f); }
    }).catch(function (err) { halfsky.showError(document.getElementById('status'), err); });
  }

  function fillSelect(id, options) {
    var s = document.getElementById(id);
    options.forEach(function (o) { s.appendChild(halfsky.el('option', { value: o[0], text: o[1] })); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var params = new URLSearchParams(location.search);
    halfsky.boot().then(function (booted) {
      L = booted.labels;
      catalog = booted.catalog;
      fillSelect('f-domain', (catalog.domains || []).map(function (d) { return [d.id, d.nameZh]; }));
      fillSelect('f-area', (catalog.areas || []).map(function (a) { return [a.code, a.nameZh + '（含下级）']; }));
      fillSelect('f-unit', (catalog.memberUnits || []).map(function (m) { return [m.code, m.nameZh]; }));
      var kinds = L['halfsky.v1.WarningKind'] || {};
      fillSelect('f-kind', Object.keys(kinds).filter(function (k) { return kinds[k].number > 0; })
          .map(function (k) { return [k, kinds[k].zh]; }));
      fillSelect('f-state', [['WARNING_STATE_RESOLVED', label('WarningState', 'WARNING_STATE_RESOLVED')]]);
      ['domain', 'area', 'kind', 'unit', 'state'].forEach(function (k) {
        if (params.get(k)) { document.getElementById('f-' + k).value = params.get(k); }
      });
      document.getElementById('filters').addEventListener('submit', function (e) {
        e.preventDefault();
        load();
      });
      return load();
    }).catch(function (err) { halfsky.showError(document.getElementById('status'), err); });
  });
})();
