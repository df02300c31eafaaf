// A warning's page (/warning?id=…): the warning as ListWarnings gives it
// (firing or resolved), its figures and sentences, the acknowledgement
// (AcknowledgeWarning: the assessment group) and the follow-up history
// (FollowUpService.GetFollowUp).
'use strict';
(function () {
  var L = null;
  var catalog = {};
  var id = new URLSearchParams(location.search).get('id') || '';
  // The follow-up record as GetFollowUp last gave it (null: none yet).
  var followUpNow = null;

  function label(type, name, field) {
    var v = ((L && L['halfsky.v1.' + type]) || {})[name];
    return v ? (v[field || 'zh'] || v.zh) : (name || '');
  }
  function status() { return document.getElementById('status'); }
  function nameOf(list, code) {
    for (var i = 0; i < (list || []).length; i++) { if (list[i].code === code) { return list[i].nameZh; } }
    return code || '';
  }
  // A figure with the indicator's unit from the catalog ('%', '/10万'…),
  // so that a bare number is never read in another unit.
  function figure(x, unit) {
    if (x === undefined || x === null) { return ''; }
    var v = String(Math.round(x * 1000) / 1000);
    return unit ? v + ' ' + unit : v;
  }
  function rate(x) {
    return (x === undefined || x === null) ? '' : (Math.round(x * 1000) / 10) + '%';
  }

  // Every warning of one state, all pages.
  function listAll(state, token, acc) {
    var req = { pageSize: 1000, state: state };
    if (token) { req.pageToken = token; }
    return halfsky.call('halfsky.v1.EvaluationService/ListWarnings', req).then(function (r) {
      acc = acc.concat(r.warnings || []);
      return r.nextPageToken ? listAll(state, r.nextPageToken, acc) : acc;
    });
  }

  function find() {
    return listAll('WARNING_STATE_FIRING', '', []).then(function (firing) {
      var w = firing.filter(function (x) { return x.id === id; })[0];
      if (w) { return w; }
      return listAll('WARNING_STATE_RESOLVED', '', []).then(function (resolved) {
        return resolved.filter(function (x) { return x.id === id; })[0];
      });
    });
  }

  function row(tbody, th, value) {
    if (value === '' || value === undefined) { return; }
    tbody.appendChild(halfsky.el('tr', {}, [halfsky.el('th', { scope: 'row', text: th }), halfsky.el('td', { text: String(value) })]));
  }

  function show(w) {
    var sev = label('Severity', w.severity, 'token');
    var title = w.indicatorNameZh || w.indicatorId || w.id;
    document.title = title + ' · 预警详情';
    var h = document.getElementById('title');
    h.textContent = title + ' ';
    h.appendChild(halfsky.el('span', { 'class': 'en', text: nameOf(catalog.areas, w.areaCode) }));
    var badges = document.getElementById('badges');
    badges.textContent = '';
    badges.appendChild(halfsky.el('span', { 'class': 'badge ' + sev, text: label('Severity', w.severity) }));
    badges.appendChild(halfsky.el('span', { 'class': 'badge', text: label('WarningKind', w.kind) }));
    badges.appendChild(halfsky.el('span', { 'class': 'badge', text: label('WarningState', w.state) }));
    if (w.status) { badges.appendChild(halfsky.el('span', { 'class': 'badge', text: label('ProgressStatus', w.status) })); }
    if (w.indicatorId) {
      badges.appendChild(halfsky.el('a', { 'class': 'indicator',
        href: '/indicator?id=' + encodeURIComponent(w.indicatorId) + (w.areaCode ? '&area=' + encodeURIComponent(w.areaCode) : ''),
        text: '指标解释、分组数据与修订记录 / indicator ' + w.indicatorId }));
    }
    // The plan this area's figures are evaluated against: the warning's own
    // (plan_code) for a target warning, else the plan governing its area.
    var plan = halfsky.governingPlan(catalog, w.areaCode);
    if (w.planCode) {
      plan = ((catalog.plans || []).filter(function (p) { return p.code === w.planCode; })[0]) || plan;
    }
    var planLine = document.getElementById('plan');
    planLine.textContent = plan.titleZh ? '评估依据 plan：' + plan.titleZh + '（' + nameOf(catalog.areas, w.areaCode) + '）' : '';
    planLine.setAttribute('data-plan', plan.code || '');
    document.getElementById('explanation-zh').textContent = w.explanationZh || '';
    document.getElementById('explanation-en').textContent = w.explanationEn || '';
    var f = w.figures || {};
    var ind = (catalog.indicators || []).filter(function (i) { return i.id === w.indicatorId; })[0] || {};
    var unit = ind.unit || '';
    var tbody = document.querySelector('#figures tbody');
    tbody.textContent = '';
    if (f.baseYear) { row(tbody, '基期 base (' + f.baseYear + ')', figure(f.baseValue, unit)); }
    if (f.currentYear) { row(tbody, '现值 current (' + f.currentYear + ')', figure(f.currentValue, unit)); }
    if (f.targetYear) { row(tbody, '目标 target (' + f.targetYear + ')', figure(f.targetValue, unit)); }
    row(tbody, '预计值 projected', figure(f.projectedValue, unit));
    row(tbody, '年均变化 actual annual rate', rate(f.actualAnnualRate));
    row(tbody, '今后每年需变化 required annual rate', rate(f.requiredAnnualRate));
    row(tbody, '进度 progress P', figure(f.progress, ''));
    row(tbody, '最近变化 latest change', figure(f.latestChange, unit));
    if (f.fewEvents) {
      // Rare events: the rate rests on few cases; its interval says how
      // little a single figure shows.
      var few = '事件数少 / few events';
      if (f.eventCount !== undefined) { few += '：' + f.eventCount + ' 例'; }
      if (f.interval) {
        few += '，' + Math.round((f.interval.level || 0.95) * 100) + '% 区间 ' +
            figure(f.interval.lower, '') + '–' + figure(f.interval.upper, unit);
      }
      row(tbody, '小数 small counts', few);
    }
    var facts = [];
    (w.responsibleUnitCodes || []).forEach(function (u) { facts.push('责任单位 ' + nameOf(catalog.memberUnits, u)); });
    if (w.firingSince) { facts.push('预警起始 ' + halfsky.formatTime(w.firingSince)); }
    if (w.resolvedAt) { facts.push('解除于 ' + halfsky.formatTime(w.resolvedAt)); }
    if (w.episode) { facts.push('第 ' + w.episode + ' 轮'); }
    if (w.daysOverdue) { facts.push('逾期 ' + w.daysOverdue + ' 天'); }
    document.getElementById('facts').textContent = facts.join(' · ');
    var ack = document.getElementById('ack');
    ack.textContent = w.acknowledgement
        ? ('已确认：' + w.acknowledgement.note + '（' + w.acknowledgement.by + '，' + halfsky.formatTime(w.acknowledgement.at) + '）')
        : '尚未确认 / not acknowledged';
    document.getElementById('warning').hidden = false;
    document.body.setAttribute('data-warning', w.id);
    fillAssignUnits(w);
    showTrend(w, ind);
  }

  // The warned series (the warning's area, both sexes, urban and rural
  // together, as the warning's figures are) against its targets, from
  // AggregationService.GetSeries: the chart of trend vs target.
  function showTrend(w, ind) {
    if (!w.indicatorId || !w.areaCode) { return null; }
    var st = document.getElementById('trend-status');
    return halfsky.call('halfsky.v1.AggregationService/GetSeries',
        { indicatorId: w.indicatorId, areaCode: w.areaCode, sex: 'SEX_TOTAL', residence: 'RESIDENCE_ALL' })
        .then(function (r) {
          var pts = (r.points || []).filter(function (p) { return p.value !== undefined; });
          var area = nameOf(catalog.areas, w.areaCode);
          var title = (ind.nameZh || w.indicatorId) + '：' + area + '（合计），趋势与目标';
          var drawn = halfsky.trendChart(document.getElementById('trend'), {
            title: title, unit: ind.unit, from: catalog.baseYear || 2020, to: catalog.finalYear || 2030,
            targets: r.targets || [], lines: [{ name: area + '（合计）', main: true, points: pts }]
          });
          document.getElementById('trend-caption').textContent = title;
          var incomplete = pts.filter(function (p) { return p.incomplete; }).length;
          st.textContent = pts.length + ' 个年份有数' +
              (incomplete ? '，其中 ' + incomplete + ' 个数据不完整（部分地区，空心点）' : '') + ' / ' + pts.length + ' years';
          document.getElementById('trend-figure').hidden = false;
          document.body.setAttribute('data-trend', String(drawn));
        })
        .catch(function (err) {
          document.getElementById('trend-figure').hidden = false;
          halfsky.showError(st, err);
          document.body.setAttribute('data-trend', 'error');
        });
  }

  function showFollowUp() {
    return halfsky.call('halfsky.v1.FollowUpService/GetFollowUp', { warningId: id }).then(function (fu) {
      followUpNow = fu;
      var parts = [label('FollowUpState', fu.state)];
      if (fu.ownerUnitCode) { parts.push('承办单位 ' + nameOf(catalog.memberUnits, fu.ownerUnitCode)); }
      if (fu.plan && fu.plan.measures) { parts.push('整改措施：' + fu.plan.measures + (fu.plan.due ? '（期限 ' + halfsky.formatTime(fu.plan.due) + '）' : '')); }
      if (fu.silence) { parts.push('暂缓督办至 ' + halfsky.formatTime(fu.silence.until) + '：' + (fu.silence.reason || '')); }
      if (fu.escalation) { parts.push('升级督办中 / escalated'); }
      document.getElementById('followup-state').textContent = parts.join(' · ');
      document.getElementById('followup-actions').hidden = fu.state === 'FOLLOW_UP_STATE_CLOSED';
      document.body.setAttribute('data-followup', label('FollowUpState', fu.state, 'token'));
      var tbody = document.querySelector('#steps tbody');
      tbody.textContent = '';
      (fu.steps || []).forEach(function (s) {
        tbody.appendChild(halfsky.el('tr', {}, [
          halfsky.el('td', { text: halfsky.formatTime(s.at) }),
          halfsky.el('td', { text: label('FollowUpStepKind', s.kind, 'short_zh') }),
          halfsky.el('td', { text: s.by || '' }),
          halfsky.el('td', { text: s.text || '' })
        ]));
      });
    }).catch(function (err) {
      document.getElementById('followup-state').textContent =
          err && err.httpStatus === 404 ? '暂无督办记录 / no follow-up' : ((err && err.message) || '');
    });
  }

  // The assign form's units: the catalog's member units, the indicator's
  // lead (or first responsible) unit preselected.
  function fillAssignUnits(w) {
    var select = document.getElementById('assign-unit');
    var ind = (catalog.indicators || []).filter(function (i) { return i.id === w.indicatorId; })[0] || {};
    var lead = ind.leadUnitCode || (ind.responsibleUnitCodes || [])[0] ||
        (w.responsibleUnitCodes || [])[0] || '';
    select.textContent = '';
    (catalog.memberUnits || []).forEach(function (u) {
      var o = halfsky.el('option', { value: u.code, text: u.nameZh + (u.code === lead ? '（牵头单位）' : '') });
      if (u.code === lead) { o.selected = true; }
      select.appendChild(o);
    });
  }

  // The service's refusal in its own words: the message, then every field
  // violation of its google.rpc.BadRequest detail.
  function refusal(err) {
    var words = [(err && err.message) || ('请求失败 / request failed: ' + String(err))];
    ((err && err.details) || []).forEach(function (d) {
      (d.fieldViolations || []).forEach(function (v) { words.push(v.description || v.field); });
    });
    return words.join('；');
  }

  // The outcome of one of the new 督办 forms in its own status line:
  // data-state "done" or "error", the service's own words on refusal.
  function formOutcome(target, promise, done) {
    target.className = 'status';
    target.textContent = '提交中… / sending…';
    target.setAttribute('data-state', 'sending');
    return promise.then(function () {
      target.textContent = done;
      target.setAttribute('data-state', 'done');
      return showFollowUp();
    }).catch(function (err) {
      target.className = 'status error';
      target.textContent = '未保存，服务拒绝 / refused: ' + refusal(err);
      target.setAttribute('data-state', 'error');
      return showFollowUp();
    });
  }

  // AssignFollowUp (the owner), then PlanFollowUp when 交办要求 is given
  // (what is asked and by when). An unchanged owner is not reassigned.
  function wireAssignAndSilence() {
    document.getElementById('assign-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var unit = document.getElementById('assign-unit').value;
      var measures = document.getElementById('assign-measures').value.trim();
      var due = document.getElementById('assign-due').value;
      var owner = followUpNow ? followUpNow.ownerUnitCode : '';
      var steps = Promise.resolve();
      if (unit !== owner || !measures) {
        steps = halfsky.call('halfsky.v1.FollowUpService/AssignFollowUp', {
          warningId: id, unitCode: unit, reason: document.getElementById('assign-reason').value.trim()
        });
      }
      if (measures) {
        steps = steps.then(function () {
          var plan = { warningId: id, measures: measures };
          if (due) { plan.due = due + 'T23:59:59+08:00'; }
          return halfsky.call('halfsky.v1.FollowUpService/PlanFollowUp', plan);
        });
      }
      formOutcome(document.getElementById('assign-status'), steps, '已交办 / assigned');
    });
    document.getElementById('silence-form').addEventListener('submit', function (e) {
      e.preventDefault();
      formOutcome(document.getElementById('silence-status'),
          halfsky.call('halfsky.v1.FollowUpService/SilenceFollowUp', {
            warningId: id,
            reason: document.getElementById('silence-reason').value.trim(),
            until: document.getElementById('silence-until').value + 'T23:59:59+08:00'
          }), '已暂缓 / silenced');
    });
  }

  function load() {
    return find().then(function (w) {
      if (!w) {
        halfsky.showError(status(), { message: '没有这条预警 / no such warning: ' + id });
        return null;
      }
      status().textContent = '';
      show(w);
      return showFollowUp();
    }).catch(function (err) { halfsky.showError(status(), err); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    wireAssignAndSilence();
    document.getElementById('ack-form').addEventListener('submit', function (e) {
      e.preventDefault();
      var note = document.getElementById('ack-note').value.trim();
      halfsky.call('halfsky.v1.EvaluationService/AcknowledgeWarning', { warningId: id, note: note })
          .then(function () { status().className = 'status'; status().textContent = '已确认 / acknowledged'; return load(); })
          .catch(function (err) { halfsky.showError(status(), err); });
    });
    // The follow-up's steps (FollowUpService; the service decides who may).
    function followUp(method, request) {
      request.warningId = id;
      return halfsky.call('halfsky.v1.FollowUpService/' + method, request)
          .then(function () { status().className = 'status'; status().textContent = '已保存 / saved'; return showFollowUp(); })
          .catch(function (err) { halfsky.showError(status(), err); });
    }
    document.getElementById('plan-form').addEventListener('submit', function (e) {
      e.preventDefault();
      followUp('PlanFollowUp', {
        measures: document.getElementById('plan-measures').value.trim(),
        due: document.getElementById('plan-due').value + 'T23:59:59+08:00'
      });
    });
    document.getElementById('note-form').addEventListener('submit', function (e) {
      e.preventDefault();
      followUp('AddFollowUpNote', { note: document.getElementById('note-text').value.trim() });
    });
    document.getElementById('close-form').addEventListener('submit', function (e) {
      e.preventDefault();
      followUp('CloseFollowUp', {
        closing: document.getElementById('close-closing').value,
        reason: document.getElementById('close-reason').value.trim()
      });
    });
    halfsky.boot().then(function (booted) {
      L = booted.labels;
      catalog = booted.catalog;
      var closings = L['halfsky.v1.FollowUpClosing'] || {};
      var select = document.getElementById('close-closing');
      Object.keys(closings).filter(function (k) { return closings[k].number > 0; }).forEach(function (k) {
        select.appendChild(halfsky.el('option', { value: k, text: closings[k].zh }));
      });
      return load();
    });
  });
})();
