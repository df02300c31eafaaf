// The assessment group's reports (/report?kind=…&year=…): the statistical
// compendium of EvaluationService.GetEvaluationReport as tables — every
// figure as the report prints it, with what it covers (数据说明) beside it —
// rendered on the server by halfskyctl's own report code (GET /api/report,
// reports.h), plus the HTML report and the xlsx workbook as downloads.
'use strict';
(function () {
  function params() {
    var q = new URLSearchParams(location.search);
    return { kind: q.get('kind') || 'annual', year: q.get('year') || '', area: q.get('area') || '' };
  }

  function query(p, format, extra) {
    var q = new URLSearchParams();
    q.set('kind', p.kind);
    if (p.year) { q.set('year', p.year); }
    if (p.area) { q.set('area', p.area); }
    if (format) { q.set('format', format); }
    Object.keys(extra || {}).forEach(function (k) { q.set(k, extra[k]); });
    return q.toString();
  }

  function cell(c, header) {
    var td = halfsky.el('td', { 'data-label': header || '' });
    if (c && typeof c.number === 'number') {
      td.textContent = String(c.number);
      td.setAttribute('data-number', String(c.number));
      td.className = 'num';
    } else if (c && c.text !== undefined) {
      td.textContent = c.text;
    }
    return td;
  }

  function table(t) {
    var head = halfsky.el('tr', {}, t.header.map(function (h) { return halfsky.el('th', { scope: 'col', text: h }); }));
    var body = halfsky.el('tbody', {}, t.rows.map(function (row) {
      return halfsky.el('tr', {}, row.map(function (c, i) { return cell(c, t.header[i]); }));
    }));
    return halfsky.el('div', { 'class': 'table-wrap' }, [
      halfsky.el('table', { 'class': 'report-table cards-on-phone', 'data-caption': t.caption }, [
        halfsky.el('caption', { text: t.caption }), halfsky.el('thead', {}, [head]), body])]);
  }

  function render(r) {
    var out = document.getElementById('report');
    out.textContent = '';
    document.getElementById('report-title').textContent = r.title;
    document.title = r.title + ' · halfsky';
    r.sheets.forEach(function (s) {
      var section = halfsky.el('section', { 'class': 'report-sheet', 'data-sheet': s.name }, [
        halfsky.el('h3', { text: s.title })]);
      s.notes.forEach(function (n) { section.appendChild(halfsky.el('p', { 'class': 'meta', text: n })); });
      s.tables.forEach(function (t) { section.appendChild(table(t)); });
      out.appendChild(section);
    });
    document.body.setAttribute('data-rendered', String(r.sheets.length));
  }

  function load() {
    var p = params();
    var status = document.getElementById('status');
    document.getElementById('r-kind').value = p.kind;
    document.getElementById('r-year').value = p.year;
    document.getElementById('r-area').value = p.area;
    document.getElementById('open-html').href = '/api/report?' + query(p, 'html', { disposition: 'inline' });
    document.getElementById('download-html').href = '/api/report?' + query(p, 'html');
    document.getElementById('download-xlsx').href = '/api/report?' + query(p, 'xlsx');
    status.className = 'status';
    status.textContent = '加载中… / loading…';
    fetch('/api/report?' + query(p, 'json'), { credentials: 'same-origin' }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 401) { location.href = '/signin?next=' + encodeURIComponent(location.pathname + location.search); }
        if (!r.ok) { throw body; }
        return body;
      });
    }).then(function (body) {
      render(body);
      document.getElementById('downloads').hidden = false;
      status.textContent = '共 ' + body.sheets.length + ' 张表 / ' + body.sheets.length + ' sheets';
    }).catch(function (err) {
      document.body.setAttribute('data-rendered', 'error');
      halfsky.showError(status, err);
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.getElementById('report-filters').addEventListener('submit', function (e) {
      e.preventDefault();
      var p = {
        kind: document.getElementById('r-kind').value,
        year: document.getElementById('r-year').value.trim(),
        area: document.getElementById('r-area').value.trim()
      };
      history.replaceState(null, '', '/report?' + query(p));
      load();
    });
    load();
  });
})();
