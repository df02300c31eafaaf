// The review queue (/review: every form, return with a reason, approve —
// the services refuse whoever may not) and a unit's home (/unit: the
// signed-in unit's own forms, submit). Both are ReviewService.ListForms.
'use strict';
(function () {
  var L = null;
  var catalog = {};
  var page = '';

  function label(type, name) {
    var v = ((L && L['halfsky.v1.' + type]) || {})[name];
    return v ? v.zh : (name || '');
  }
  function token(type, name) {
    var v = ((L && L['halfsky.v1.' + type]) || {})[name];
    return v ? v.token : '';
  }
  function nameOf(list, code, key) {
    for (var i = 0; i < (list || []).length; i++) { if (list[i][key || 'code'] === code) { return list[i].nameZh; } }
    return code || '';
  }

  function status() { return document.getElementById('status'); }

  function act(method, request, done) {
    status().className = 'status';
    status().textContent = '提交中… / sending…';
    return halfsky.call(method, request).then(function () {
      status().textContent = '已完成 / done';
      return done();
    }).catch(function (err) { halfsky.showError(status(), err); });
  }

  function actions(form) {
    var td = halfsky.el('td', { 'class': 'noprint', 'data-label': '操作' });
    var key = form.key || {};
    var id = [key.unitCode, key.areaCode, key.year].join('-');
    if (page === 'review' && form.state === 'FORM_STATE_SUBMITTED') {
      var reason = halfsky.el('input', { type: 'text', id: 'reason-' + id, placeholder: '退回原因 / reason' });
      var back = halfsky.el('button', { type: 'button', text: '退回' });
      var ok = halfsky.el('button', { type: 'button', text: '审核通过' });
      back.addEventListener('click', function () {
        if (!reason.value.trim()) { halfsky.showError(status(), { message: '请填写退回原因 / a reason is required' }); return; }
        act('halfsky.v1.ReviewService/ReturnForm', { key: key, reason: reason.value.trim() }, load);
      });
      ok.addEventListener('click', function () { act('halfsky.v1.ReviewService/ApproveForm', { key: key }, load); });
      td.appendChild(halfsky.el('label', { 'for': 'reason-' + id, 'class': 'en', text: '退回原因 / reason ' }));
      td.appendChild(reason);
      td.appendChild(back);
      td.appendChild(ok);
    }
    if (page === 'unit' && (form.state === 'FORM_STATE_DRAFT' || form.state === 'FORM_STATE_RETURNED')) {
      var submit = halfsky.el('button', { type: 'button', text: '报送' });
      submit.addEventListener('click', function () { act('halfsky.v1.ReviewService/SubmitForm', { key: key }, load); });
      td.appendChild(submit);
    }
    return td;
  }

  function row(form) {
    var key = form.key || {};
    var note = form.state === 'FORM_STATE_RETURNED' ? (form.reason || '') : (form.explanation || form.reason || '');
    return halfsky.el('tr', { 'data-unit': key.unitCode || '', 'data-state': token('FormState', form.state) }, [
      halfsky.el('td', { 'data-label': '单位', text: nameOf(catalog.memberUnits, key.unitCode) }),
      halfsky.el('td', { 'data-label': '地区', text: nameOf(catalog.areas, key.areaCode) }),
      halfsky.el('td', { 'data-label': '年度', text: String(key.year || '') }),
      halfsky.el('td', { 'data-label': '状态', 'class': 'state-' + token('FormState', form.state), text: label('FormState', form.state) }),
      halfsky.el('td', { 'data-label': '说明 / 退回原因', text: note }),
      halfsky.el('td', { 'data-label': '最近操作', text: [form.changedBy || '', halfsky.formatTime(form.changedAt)].join(' ').trim() }),
      actions(form)
    ]);
  }

  function load() {
    var req = {};
    var year = parseInt(document.getElementById('f-year').value, 10);
    var state = document.getElementById('f-state').value;
    if (year) { req.year = year; }
    if (state) { req.state = state; }
    return halfsky.call('halfsky.v1.ReviewService/ListForms', req).then(function (r) {
      var forms = r.forms || [];
      // Queue order: submitted first (what waits for the bureau), then unit, area, year.
      var order = { FORM_STATE_SUBMITTED: 0, FORM_STATE_RETURNED: 1, FORM_STATE_DRAFT: 2, FORM_STATE_APPROVED: 3 };
      forms.sort(function (a, b) {
        var d = (order[a.state] || 9) - (order[b.state] || 9);
        if (d !== 0) { return d; }
        var ka = [a.key.unitCode, a.key.areaCode, a.key.year].join(' ');
        var kb = [b.key.unitCode, b.key.areaCode, b.key.year].join(' ');
        return ka < kb ? -1 : ka > kb ? 1 : 0;
      });
      var tbody = document.querySelector('#forms tbody');
      tbody.textContent = '';
      forms.forEach(function (f) { tbody.appendChild(row(f)); });
      var waiting = forms.filter(function (f) { return f.state === 'FORM_STATE_SUBMITTED'; }).length;
      status().className = 'status';
      status().textContent = '共 ' + forms.length + ' 份报表，待审核 ' + waiting + ' 份 / ' + forms.length + ' forms, ' + waiting + ' waiting';
      document.body.setAttribute('data-rendered', String(forms.length));
      var latest = 0;
      forms.forEach(function (f) { latest = Math.max(latest, (f.key && f.key.year) || 0); });
      return board(year || latest || (new Date().getFullYear() - 1));
    }).catch(function (err) { halfsky.showError(status(), err); });
  }

  // 报送看板 of one year: per unit 应报 / 已报 / deadline / 逾期 / the district form.
  function board(year) {
    document.getElementById('board-title').firstChild.textContent = year + '年报送看板 ';
    return Promise.all([
      halfsky.call('halfsky.v1.ReviewService/GetReviewBoard', { year: year }),
      // 按时: the on-time count of SubmissionService.GetReportingStatus.
      halfsky.call('halfsky.v1.SubmissionService/GetReportingStatus', { year: year }).catch(function () { return {}; })
    ]).then(function (got) {
      var r = got[0];
      var onTime = {};
      (got[1].units || []).forEach(function (u) { onTime[u.unitCode] = u.onTimeCount || 0; });
      var tbody = document.querySelector('#board tbody');
      tbody.textContent = '';
      (r.rows || []).forEach(function (row) {
        var state = (row.form && row.form.state) || 'FORM_STATE_DRAFT';
        tbody.appendChild(halfsky.el('tr', { 'data-unit': row.unitCode, 'data-overdue': row.overdue ? 'yes' : 'no' }, [
          halfsky.el('td', { 'data-label': '单位', text: nameOf(catalog.memberUnits, row.unitCode) }),
          halfsky.el('td', { 'data-label': '年度', text: String(row.year || year) }),
          halfsky.el('td', { 'data-label': '应报', text: String(row.expectedCount || 0) }),
          halfsky.el('td', { 'data-label': '已报', text: String(row.reportedCount || 0) }),
          halfsky.el('td', { 'data-label': '按时', text: onTime[row.unitCode] === undefined ? '—' : String(onTime[row.unitCode]) }),
          halfsky.el('td', { 'data-label': '截止', text: halfsky.formatTime(row.dueAt) }),
          halfsky.el('td', { 'data-label': '是否逾期', 'class': row.overdue ? 'error' : '', text: row.overdue ? '逾期' : '否' }),
          halfsky.el('td', { 'data-label': '区级报表', 'class': 'state-' + token('FormState', state), text: label('FormState', state) })
        ]));
      });
    }).catch(function (err) { halfsky.showError(status(), err); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    page = document.body.getAttribute('data-page');
    halfsky.boot().then(function (booted) {
      L = booted.labels;
      catalog = booted.catalog;
      var states = L['halfsky.v1.FormState'] || {};
      var select = document.getElementById('f-state');
      Object.keys(states).filter(function (k) { return states[k].number > 0; }).forEach(function (k) {
        select.appendChild(halfsky.el('option', { value: k, text: states[k].zh }));
      });
      document.getElementById('filters').addEventListener('submit', function (e) { e.preventDefault(); load(); });
      return load();
    });
  });
})();
