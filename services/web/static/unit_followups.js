// A unit's home (/unit), the part "what is asked of it by when": the
// follow-up records (督办) FollowUpService.ListFollowUps gives the signed-in
// principal (a unit: exactly the records it owns), each with its warning,
// what is asked (the plan's measures), the due date, 逾期 when it has
// passed, and a form to answer with its countermeasure (AddFollowUpNote,
// which the service lets the owning unit make; the plan itself is the
// assessment group's).
'use strict';
(function () {
  var L = null;

  function label(type, name) {
    var v = ((L && L['halfsky.v1.' + type]) || {})[name];
    return v ? v.zh : (name || '');
  }
  function token(type, name) {
    var v = ((L && L['halfsky.v1.' + type]) || {})[name];
    return v ? v.token : '';
  }
  function status() { return document.getElementById('asked-status'); }

  // Past `ts` (RFC 3339) now?
  function passed(ts) {
    var d = ts ? new Date(ts) : null;
    return !!d && !isNaN(d) && d.getTime() < Date.now();
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

  function item(fu, i) {
    var w = fu.warning || {};
    var plan = fu.plan || null;
    var closed = fu.state === 'FOLLOW_UP_STATE_CLOSED';
    var due = plan ? plan.due : fu.planRequiredBy;
    var overdue = !closed && passed(due);
    var li = halfsky.el('li', { 'data-warning': fu.warningId, 'data-overdue': overdue ? 'yes' : 'no' });
    var title = (w.indicatorNameZh || w.indicatorId || fu.warningId) + (w.areaCode ? '（' + w.areaCode + '）' : '');
    var head = halfsky.el('p', { 'class': 'asked-head' }, [
      halfsky.el('a', { href: '/warning?id=' + encodeURIComponent(fu.warningId), text: title }), ' ',
      halfsky.el('span', { 'class': 'badge ' + token('Severity', w.severity), text: label('Severity', w.severity) }), ' ',
      halfsky.el('span', { 'class': 'badge', text: label('FollowUpState', fu.state) })
    ]);
    if (overdue) {
      head.appendChild(document.createTextNode(' '));
      head.appendChild(halfsky.el('span', { 'class': 'badge red overdue', text: '逾期 / overdue' }));
    }
    li.appendChild(head);
    if (w.explanationZh) { li.appendChild(halfsky.el('p', { 'class': 'meta', text: w.explanationZh })); }
    li.appendChild(halfsky.el('p', { 'class': 'asked-what', text: plan
        ? '要求 / asked：' + plan.measures
        : '尚未下达整改要求；整改措施须于期限前制定 / no plan yet' }));
    li.appendChild(halfsky.el('p', { 'class': 'asked-due', text: '期限 / due：' + (due ? halfsky.formatTime(due) : '—') }));
    if (fu.lastNote) {
      li.appendChild(halfsky.el('p', { 'class': 'meta asked-last', text: '最近答复 / last answer：' + fu.lastNote +
          '（' + (fu.lastNoteBy || '') + '，' + halfsky.formatTime(fu.lastNoteAt) + '）' }));
    }
    if (!closed) {
      var text = halfsky.el('textarea', { id: 'asked-note-' + i, rows: '2', required: 'required' });
      var out = halfsky.el('p', { id: 'asked-out-' + i, 'class': 'status', role: 'status', 'aria-live': 'polite' });
      var form = halfsky.el('form', { 'class': 'noprint', id: 'asked-form-' + i }, [
        halfsky.el('p', {}, [
          halfsky.el('label', { 'for': 'asked-note-' + i, text: '对策措施与整改进展 / countermeasure' }),
          halfsky.el('br'), text
        ]),
        halfsky.el('p', {}, [halfsky.el('button', { type: 'submit', text: '答复 / answer' })]),
        out
      ]);
      form.addEventListener('submit', function (e) {
        e.preventDefault();
        out.className = 'status';
        out.textContent = '提交中… / sending…';
        halfsky.call('halfsky.v1.FollowUpService/AddFollowUpNote', { warningId: fu.warningId, note: text.value.trim() })
            .then(function () { return load(); })
            .then(function () {
              status().className = 'status';
              status().textContent = '已答复 / answered：' + title;
              status().setAttribute('data-state', 'done');
            })
            .catch(function (err) {
              out.className = 'status error';
              out.textContent = '未保存，服务拒绝 / refused: ' + refusal(err);
              out.setAttribute('data-state', 'error');
            });
      });
      li.appendChild(form);
    }
    return li;
  }

  function load() {
    return halfsky.call('halfsky.v1.FollowUpService/ListFollowUps', {}).then(function (r) {
      var list = document.getElementById('asked-list');
      var items = r.followUps || [];
      list.textContent = '';
      items.forEach(function (fu, i) { list.appendChild(item(fu, i)); });
      status().className = 'status';
      status().textContent = items.length ? '' : '暂无交办事项 / nothing asked';
      document.getElementById('asked').setAttribute('data-followups', String(items.length));
      // The unit's own warnings (a late-data warning has no follow-up): the
      // board filtered to it. Its code from a record it owns, else from a
      // row of its forms (a unit sees only its own).
      var row = document.querySelector('#forms tbody tr[data-unit]');
      var code = (items[0] && items[0].ownerUnitCode) || (row && row.getAttribute('data-unit')) || '';
      if (code) {
        document.getElementById('unit-warnings').href = '/warnings?unit=' + encodeURIComponent(code);
      }
    }).catch(function (err) { halfsky.showError(status(), err); });
  }

  document.addEventListener('DOMContentLoaded', function () {
    halfsky.labels().then(function (l) { L = l; return load(); });
  });
})();
