// halfsky-web: what every page shares — the API call (with the CSRF
// header), the enum labels from /api/labels, sign-out, small DOM helpers.
'use strict';

var halfsky = (function () {
  function cookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].substring(0, eq) === name) { return decodeURIComponent(parts[i].substring(eq + 1)); }
    }
    return '';
  }

  function signIn() {
    location.href = '/signin?next=' + encodeURIComponent(location.pathname + location.search);
  }

  // POST /api/v1/<service>/<method> with `request` (an object in protobuf's
  // JSON mapping); resolves to the response object, rejects with the error
  // object ({status, code, message, details}); 401 goes to the sign-in page.
  function call(method, request) {
    return fetch('/api/v1/' + method, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': cookie('halfsky_csrf') },
      body: JSON.stringify(request || {})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.ok) { return body; }
        if (r.status === 401) { signIn(); }
        body.httpStatus = r.status;
        throw body;
      });
    });
  }

  var labelsPromise = null;
  // Resolves to {enumFullName: {VALUE: {zh, en, short_zh, token, number}}}.
  function labels() {
    if (!labelsPromise) {
      labelsPromise = fetch('/api/labels').then(function (r) { return r.json(); });
    }
    return labelsPromise;
  }

  // What most page scripts load first: resolves to {labels, catalog}
  // (catalog: CatalogService.GetCatalog's catalog; {} when that call fails,
  // unless `options.requireCatalog`: then the boot rejects with its error).
  function boot(options) {
    var catalog = call('halfsky.v1.CatalogService/GetCatalog', {});
    if (!(options && options.requireCatalog)) {
      catalog = catalog.catch(function () { return {}; });
    }
    return Promise.all([labels(), catalog]).then(function (got) {
      return { labels: got[0], catalog: (got[1] && got[1].catalog) || {} };
    });
  }

  // The main navigation, rendered into every page's <nav id="nav">; the
  // link of the current page is marked aria-current="page".
  var NAV = [
    ['/warnings', '预警看板', 'warnings'],
    ['/review', '审核', 'review'],
    ['/reporting', '报送看板', 'reporting'],
    ['/indicator', '指标', 'indicators'],
    ['/unit', '本单位', 'my unit'],
    ['/report', '评估报告', 'reports']
  ];
  function renderNav() {
    var nav = document.getElementById('nav');
    if (!nav) { return; }
    if (!nav.hasAttribute('aria-label')) { nav.setAttribute('aria-label', '主导航 / main'); }
    NAV.forEach(function (n) {
      var a = el('a', { href: n[0] }, [n[1] + ' ', el('span', { class: 'en', text: n[2] })]);
      if (location.pathname === n[0]) { a.setAttribute('aria-current', 'page'); }
      nav.appendChild(a);
    });
    nav.appendChild(el('button', { type: 'button', id: 'signout', class: 'link' },
      ['退出 ', el('span', { class: 'en', text: 'sign out' })]));
  }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === 'text') { e.textContent = attrs[k]; } else if (k === 'class') { e.className = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); } });
    return e;
  }

  function showError(target, err) {
    target.className = 'status error';
    target.textContent = (err && err.message) ? err.message : ('请求失败 / request failed: ' + String(err));
  }

  // A Timestamp (RFC 3339) in the district's time (UTC+8), as officials read it.
  function formatTime(ts) {
    if (!ts) { return ''; }
    var d = new Date(ts);
    return isNaN(d) ? ts : d.toLocaleString('zh-CN', { hour12: false, timeZone: 'Asia/Shanghai' });
  }

  // The plan an area's figures are evaluated against (Catalog.plans): the
  // plan of the area's nearest ancestor-or-self with one, as
  // CatalogIndex::GoverningPlan; {code: '', titleZh: the catalog's title}
  // for a catalog without plans.
  function governingPlan(catalog, areaCode) {
    var plans = (catalog && catalog.plans) || [];
    var areas = (catalog && catalog.areas) || [];
    if (!plans.length) { return { code: '', titleZh: (catalog && catalog.planTitleZh) || '' }; }
    var code = areaCode;
    for (var steps = 0; code && steps <= areas.length; steps++) {
      for (var i = 0; i < plans.length; i++) { if (plans[i].areaCode === code) { return plans[i]; } }
      var parent = '';
      for (var j = 0; j < areas.length; j++) { if (areas[j].code === code) { parent = areas[j].parentCode || ''; } }
      code = parent;
    }
    return { code: '', titleZh: (catalog && catalog.planTitleZh) || '' };
  }

  // A table too wide for a phone scrolls inside its .table-wrap: each one is
  // a labelled region that a keyboard can reach and scroll (WCAG 2.1.1).
  function labelTableWraps() {
    var wraps = document.querySelectorAll('.table-wrap');
    for (var i = 0; i < wraps.length; i++) {
      var w = wraps[i];
      if (w.hasAttribute('tabindex')) { continue; }
      var name = '';
      var caption = w.querySelector('caption');
      if (caption) { name = caption.textContent; }
      for (var p = w.previousElementSibling; !name && p; p = p.previousElementSibling) {
        if (/^H[1-6]$/.test(p.tagName)) { name = p.textContent; }
      }
      w.setAttribute('tabindex', '0');
      w.setAttribute('role', 'region');
      w.setAttribute('aria-label', (name || '表格 / table').trim());
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    renderNav();
    labelTableWraps();
    var out = document.getElementById('signout');
    if (out) {
      out.addEventListener('click', function () {
        fetch('/api/session/end', {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': cookie('halfsky_csrf') },
          body: '{}'
        }).then(function () { location.href = '/signin'; });
      });
    }
  });

  return { call: call, labels: labels, boot: boot, el: el, showError: showError, formatTime: formatTime, cookie: cookie,
    governingPlan: governingPlan };
})();
