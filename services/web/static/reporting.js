// The bureau's reporting board (/reporting?year=2024&unit=…): per member
// unit 应报 / 已报 / 按时 / 迟报 / 逾期未报 and the rates
// (SubmissionService.GetReportingStatus), the unit's district form's 审核
// state, deadline and 逾期 (ReviewService.GetReviewBoard), every unit ×
// indicator entry, the year's forms (ReviewService.ListForms) and the rule
// violations 逻辑审核 (ReviewService.ValidateData). Each section asks its
// own service and shows its own answer: a refusal (PERMISSION_DENIED, e.g.
// a unit principal asking for every unit) is shown in that section, in
// Chinese, and the rest of the page still shows what the services allow.
'use strict';
(function () {
  var L = null;
  var catalog = {};

  function label(type, name, field) {
    var v = ((L && L['halfsky.v1.' + type]) || {})[name];
    return v ? (v[field || 'zh'] || v.zh || name) : (name || '');
  }
  function byCode(list, code, key) {
    for (var i = 0; i < (list || []).length; i++) { if (list[i][key || 'code'] === code) { return list[i]; } }
    return null;
  }
  function unitName(code) { var u = byCode(catalog.memberUnits, code); return u ? u.nameZh : (code || ''); }
  function areaName(code) {
    if (!code) { var root = (catalog.areas || []).filter(function (a) { return !a.parentCode; })[0]; return root ? root.nameZh : ''; }
    var a = byCode(catalog.areas, code); return a ? a.nameZh : code;
  }
  function indicatorLink(id) {
    var ind = byCode(catalog.indicators, id, 'id');
    return halfsky.el('a', { href: '/indicator?id=' + encodeURIComponent(id), text: id + (ind ? ' ' + ind.nameZh : '') });
  }
  function pct(x) { return (x === undefined || x === null) ? '0%' : (Math.round(x * 10) / 10) + '%'; }
  function td(lbl, text, cls) {
    var attrs = { 'data-label': lbl };
    if (cls) { attrs['class'] = cls; }
    var e = halfsky.el('td', attrs);
    if (typeof text === 'string') { e.textContent = text; } else if (text) { e.appendChild(text); }
    return e;
  }
  function denied(target, err) {
    var msg = (err && err.message) || String(err);
    target.className = 'status error';
    if (err && err.httpStatus === 403) {
      target.textContent = '无权查看（服务拒绝）/ permission denied: ' + msg;
      target.setAttribute('data-denied', 'yes');
    } else {
      target.textContent = msg;
    }
  }
  function ok(target, text) {
    target.className = 'status';
    target.removeAttribute('data-denied');
    target.textContent = text;
  }

  function request(year, unit) {
    var r = { year: year };
    if (unit) { r.unitCodes = [unit]; }
    return r;
  }

  function loadSummary(year, unit) {
    var st = document.getElementById('summary-status');
    var tbody = document.querySelector('#summary tbody');
    var entries = document.querySelector('#entries tbody');
    tbody.textContent = '';
    entries.textContent = '';
    return Promise.all([
      halfsky.call('halfsky.v1.SubmissionService/GetReportingStatus', request(year, unit)),
      halfsky.call('halfsky.v1.ReviewService/GetReviewBoard', request(year, unit)).catch(function (err) { return { error: err }; })
    ]).then(function (got) {
      var status = got[0];
      var board = got[1];
      var rows = {};
      (board.rows || []).forEach(function (r) { rows[r.unitCode] = r; });
      var counts = {};
      (status.entries || []).forEach(function (e) {
        var c = counts[e.unitCode] || (counts[e.unitCode] = { late: 0, missing: 0, notDue: 0 });
        if (e.state === 'REPORTING_STATE_LATE') { c.late++; }
        if (e.state === 'REPORTING_STATE_MISSING') { c.missing++; }
        if (e.state === 'REPORTING_STATE_NOT_DUE') { c.notDue++; }
        entries.appendChild(halfsky.el('tr', { 'data-unit': e.unitCode, 'data-indicator': e.indicatorId,
          'data-state': e.state }, [
          td('单位', unitName(e.unitCode)),
          td('指标', indicatorLink(e.indicatorId)),
          td('报送状态', label('ReportingState', e.state), e.state === 'REPORTING_STATE_MISSING' ? 'error' : ''),
          td('截止', halfsky.formatTime(e.dueAt)),
          td('首次报送', halfsky.formatTime(e.firstSubmittedAt)),
          td('最近报送', halfsky.formatTime(e.lastSubmittedAt))
        ]));
      });
      function line(s, attrs, name) {
        var c = counts[s.unitCode] || { late: 0, missing: 0 };
        var b = rows[s.unitCode];
        var form = b ? ((b.form && b.form.state) || 'FORM_STATE_DRAFT') : '';
        var review = b ? label('FormState', form) : (board.error ? '—' : '');
        if (b && (b.areaForms || []).length) {
          review += '；镇街报表 ' + b.areaForms.map(function (f) { return areaName(f.key && f.key.areaCode) + ' ' + label('FormState', f.state); }).join('、');
        }
        if (!s.unitCode) {
          c = { late: 0, missing: 0 };
          Object.keys(counts).forEach(function (k) { c.late += counts[k].late; c.missing += counts[k].missing; });
        }
        return halfsky.el('tr', attrs, [
          td('单位', name),
          td('应报', String(s.expectedCount || 0)),
          td('已报', String(s.reportedCount || 0)),
          td('按时', String(s.onTimeCount || 0)),
          td('迟报', String(c.late)),
          td('逾期未报', String(c.missing), c.missing ? 'error' : ''),
          td('报送率', pct(s.completenessPercent)),
          td('按时率', pct(s.timelinessPercent)),
          td('截止', b ? halfsky.formatTime(b.dueAt) : ''),
          td('审核状态', review, form ? 'state-' + label('FormState', form, 'token') : ''),
          td('报表逾期', b ? (b.overdue ? '逾期' : '否') : '', b && b.overdue ? 'error' : '')
        ]);
      }
      (status.units || []).forEach(function (s) {
        tbody.appendChild(line(s, { 'data-unit': s.unitCode, 'data-expected': String(s.expectedCount || 0),
          'data-reported': String(s.reportedCount || 0), 'data-on-time': String(s.onTimeCount || 0),
          'data-overdue': (counts[s.unitCode] || {}).missing ? 'yes' : 'no',
          'data-form': rows[s.unitCode] ? label('FormState', (rows[s.unitCode].form || {}).state || 'FORM_STATE_DRAFT', 'token') : '' }, unitName(s.unitCode)));
      });
      if (status.overall && (status.units || []).length > 1) {
        tbody.appendChild(line(status.overall, { 'data-unit': '', 'class': 'total' }, '合计 / all'));
      }
      var o = status.overall || {};
      ok(st, year + '年：应报 ' + (o.expectedCount || 0) + '，已报 ' + (o.reportedCount || 0) + '，按时 ' + (o.onTimeCount || 0) +
          '（报送率 ' + pct(o.completenessPercent) + '，按时率 ' + pct(o.timelinessPercent) + '）');
      if (board.error) { denied(st, board.error); }
      document.body.setAttribute('data-summary', String((status.units || []).length));
    }).catch(function (err) {
      denied(st, err);
      document.body.setAttribute('data-summary', 'error');
    });
  }

  function loadForms(year, unit) {
    var st = document.getElementById('forms-status');
    var tbody = document.querySelector('#forms tbody');
    tbody.textContent = '';
    var req = { year: year };
    if (unit) { req.unitCode = unit; }
    return halfsky.call('halfsky.v1.ReviewService/ListForms', req).then(function (r) {
      (r.forms || []).forEach(function (f) {
        var key = f.key || {};
        tbody.appendChild(halfsky.el('tr', { 'data-unit': key.unitCode || '', 'data-state': label('FormState', f.state, 'token') }, [
          td('单位', unitName(key.unitCode)),
          td('地区', areaName(key.areaCode)),
          td('审核状态', label('FormState', f.state), 'state-' + label('FormState', f.state, 'token')),
          td('说明 / 退回原因', f.state === 'FORM_STATE_RETURNED' ? (f.reason || '') : (f.explanation || f.reason || '')),
          td('最近操作', [f.changedBy || '', halfsky.formatTime(f.changedAt)].join(' ').trim())
        ]));
      });
      ok(st, (r.forms || []).length ? '共 ' + r.forms.length + ' 份报表有过操作 / forms' : '本年度尚无报送的报表 / no form has moved yet');
    }).catch(function (err) { denied(st, err); });
  }

  function loadViolations(year, unit) {
    var st = document.getElementById('violations-status');
    var tbody = document.querySelector('#violations tbody');
    tbody.textContent = '';
    var req = { year: year };
    if (unit) { req.unitCode = unit; }
    return halfsky.call('halfsky.v1.ReviewService/ValidateData', req).then(function (r) {
      var vs = (r.violations || []).slice().sort(function (a, b) {
        var ia = a.importance === 'RULE_IMPORTANCE_ERROR' ? 0 : 1;
        var ib = b.importance === 'RULE_IMPORTANCE_ERROR' ? 0 : 1;
        return ia - ib;
      });
      vs.forEach(function (v) {
        var imp = label('RuleImportance', v.importance, 'token');
        tbody.appendChild(halfsky.el('tr', { 'data-rule': v.ruleId, 'data-importance': imp }, [
          td('重要性', label('RuleImportance', v.importance), imp === 'error' ? 'error' : ''),
          td('规则', v.ruleId),
          td('指标', v.indicatorId ? indicatorLink(v.indicatorId) : ''),
          td('地区', areaName(v.areaCode)),
          td('年份', String(v.year || year)),
          td('说明', v.messageZh || v.field || '')
        ]));
      });
      ok(st, '错误 ' + (r.errorCount || 0) + ' 条，提示 ' + (r.warningCount || 0) + ' 条，已检查 ' + (r.checkedCount || 0) +
          ' 项 / ' + (r.errorCount || 0) + ' errors, ' + (r.warningCount || 0) + ' warnings, ' + (r.checkedCount || 0) + ' checked');
      document.body.setAttribute('data-violations', String(vs.length));
    }).catch(function (err) {
      denied(st, err);
      document.body.setAttribute('data-violations', 'error');
    });
  }

  function load() {
    var year = parseInt(document.getElementById('f-year').value, 10);
    var unit = document.getElementById('f-unit').value;
    var status = document.getElementById('status');
    if (!year) { halfsky.showError(status, { message: '请填写年度 / a year is required' }); return Promise.resolve(); }
    var q = new URLSearchParams();
    q.set('year', String(year));
    if (unit) { q.set('unit', unit); }
    history.replaceState(null, '', '/reporting?' + q.toString());
    document.getElementById('title').firstChild.textContent = year + '年报送看板 ';
    status.className = 'status';
    status.textContent = '';
    return Promise.all([loadSummary(year, unit), loadForms(year, unit), loadViolations(year, unit)]).then(function () {
      document.body.setAttribute('data-rendered', String(year));
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    var params = new URLSearchParams(location.search);
    halfsky.boot()
        .then(function (booted) {
          L = booted.labels;
          catalog = booted.catalog;
          var select = document.getElementById('f-unit');
          (catalog.memberUnits || []).forEach(function (u) {
            var opt = halfsky.el('option', { value: u.code, text: u.nameZh });
            if (u.code === params.get('unit')) { opt.selected = true; }
            select.appendChild(opt);
          });
          document.getElementById('f-year').value = params.get('year') || String(new Date().getFullYear() - 1);
          document.getElementById('filters').addEventListener('submit', function (e) { e.preventDefault(); load(); });
          return load();
        }).catch(function (err) { halfsky.showError(document.getElementById('status'), err); });
  });
})();
