// An indicator's page (/indicator?id=HEALTH-06): 指标解释 from the catalog
// (CatalogService.GetCatalog), the series by area, sex and urban/rural
// (AggregationService.GetSeries, one call per group) as a table and an
// inline SVG chart of the trend against the plan's targets, and each value's
// revision history (SubmissionService.GetHistory: who changed what, when,
// why). Every figure names what it covers (area, sex, residence, year) and
// carries the series' own flags (数据不完整 with its coverage, 含未审核数据,
// 公布数): a part is never shown as the whole. Nothing is computed here but
// the drawing; a service's refusal (PERMISSION_DENIED) is shown as such.
// /indicator without an id lists the catalog's indicators.
'use strict';
(function () {
  var L = null;
  var catalog = {};
  var ind = null;
  var params = new URLSearchParams(location.search);
  var id = params.get('id') || '';

  // The enum value's words from /api/labels; '' when it has none (the
  // page never shows a raw enum name).
  function label(type, name, field) {
    var v = ((L && L['halfsky.v1.' + type]) || {})[name];
    return v ? (v[field || 'zh'] || v.zh || '') : '';
  }
  // 「越低越好 lower is better」: both words of the value ('' without them).
  function zhEn(type, name) {
    var zh = label(type, name);
    var en = label(type, name, 'en');
    return zh && en && en !== zh ? zh + ' ' + en : zh;
  }
  function planTitle(code) {
    var plans = catalog.plans || [];
    if (!plans.length) { return catalog.planTitleZh || ''; }
    var root = halfsky.governingPlan(catalog, rootArea());
    var p = byCode(plans, code || root.code);
    return p ? p.titleZh : '';
  }
  function byCode(list, code, key) {
    for (var i = 0; i < (list || []).length; i++) { if (list[i][key || 'code'] === code) { return list[i]; } }
    return null;
  }
  function areaName(code) { var a = byCode(catalog.areas, code); return a ? a.nameZh : code; }
  function unitName(code) { var u = byCode(catalog.memberUnits, code); return u ? u.nameZh : code; }
  function rootArea() {
    var roots = (catalog.areas || []).filter(function (a) { return !a.parentCode; });
    return roots.length ? roots[0].code : '';
  }
  function childrenOf(code) {
    return (catalog.areas || []).filter(function (a) { return a.parentCode === code; });
  }
  function num(x) { return String(Math.round(x * 1000) / 1000); }
  function figure(x) {
    if (x === undefined || x === null) { return ''; }
    return ind && ind.unit ? num(x) + ' ' + ind.unit : num(x);
  }
  // "无权查看" for a service's PERMISSION_DENIED, with its own words.
  function errorText(err) {
    var msg = (err && err.message) || String(err);
    if (err && (err.httpStatus === 403 || err.status === 'PERMISSION_DENIED')) {
      return '无权查看（服务拒绝）/ permission denied: ' + msg;
    }
    return msg;
  }
  function showError(target, err) {
    target.className = 'status error';
    target.textContent = errorText(err);
    if (err && err.httpStatus === 403) { target.setAttribute('data-denied', 'yes'); }
  }
  function disaggregated(d) { return (ind.requiredDisaggregations || []).indexOf(d) >= 0; }

  // ---- 指标解释 ------------------------------------------------------------
  function fact(dl, term, text) {
    if (!text) { return; }
    dl.appendChild(halfsky.el('dt', { text: term }));
    dl.appendChild(halfsky.el('dd', { text: text }));
  }

  function showExplanation() {
    var e = ind.explanation || {};
    var d = ind.definition || {};
    var dl = document.getElementById('explanation');
    dl.textContent = '';
    var domain = byCode(catalog.domains, ind.domainId, 'id');
    fact(dl, '指标 indicator', ind.id + ' ' + (ind.nameZh || '') + (ind.nameEn ? ' — ' + ind.nameEn : ''));
    if (domain) { fact(dl, '领域 domain', domain.nameZh); }
    fact(dl, '类型 kind', zhEn('IndicatorKind', ind.kind));
    fact(dl, '指标含义 definition', e.definitionZh);
    fact(dl, '计算方法 formula', e.formulaZh);
    fact(dl, '计量单位 unit', ind.unit);
    fact(dl, '分子 numerator', d.numeratorZh);
    fact(dl, '分母 denominator', d.denominatorZh);
    fact(dl, '说明 note', d.noteZh);
    fact(dl, '数据来源 source', [e.dataSourceZh, zhEn('DataSource', ind.dataSource)]
        .filter(function (x) { return x; }).join('；'));
    if (e.wording) { fact(dl, '解释出处 wording', label('ExplanationWording', e.wording)); }
    var units = (ind.responsibleUnitCodes || []).map(function (u) {
      return unitName(u) + (ind.leadUnitCode === u && ind.responsibleUnitCodes.length > 1 ? '（牵头）' : '');
    });
    fact(dl, '责任单位 responsible', units.join('、'));
    fact(dl, '分组 disaggregations', (ind.requiredDisaggregations || []).map(function (x) { return zhEn('Disaggregation', x); })
        .filter(function (x) { return x; }).join('、'));
    fact(dl, '方向 direction', zhEn('Direction', ind.direction));
    (ind.objectiveIds || []).forEach(function (o) {
      var obj = byCode(catalog.objectives, o, 'id');
      fact(dl, '主要目标 objective', o + (obj ? ' ' + obj.textZh : ''));
    });
    if (!e.definitionZh) {
      fact(dl, '指标含义 definition', '目录中尚无指标解释 / the catalog has no explanation yet');
    }
    var tbody = document.querySelector('#targets tbody');
    tbody.textContent = '';
    (ind.targets || []).forEach(function (t) {
      var applies = [t.sex ? label('Sex', t.sex) : '', t.residence ? label('Residence', t.residence) : '',
        t.gapDimension ? label('GapDimension', t.gapDimension) : ''].filter(function (x) { return x; }).join(' ');
      tbody.appendChild(halfsky.el('tr', { 'data-target-year': String(t.year || 0) }, [
        halfsky.el('td', { 'data-label': '目标年', text: t.everyYear ? '每年 every year' : String(t.year || '') }),
        halfsky.el('td', { 'data-label': '规划原文', text: t.textZh || '' }),
        halfsky.el('td', { 'data-label': '目标值', text: t.value !== undefined ? figure(t.value) : '—' }),
        halfsky.el('td', { 'data-label': '适用', text: applies || '合计 / total' }),
        halfsky.el('td', { 'data-label': '比较', text: label('Comparator', t.comparator) }),
        halfsky.el('td', { 'data-label': '规划', 'data-plan': t.planCode || '', text: planTitle(t.planCode) })
      ]));
    });
  }

  // ---- the series ------------------------------------------------------------
  // The groups shown for the chosen area: its total and, as the indicator
  // is disaggregated, female/male, urban/rural and its child areas.
  function groups(area, sex, residence) {
    var out = [{ areaCode: area, sex: sex, residence: residence, main: true }];
    if (sex === 'SEX_TOTAL' && residence === 'RESIDENCE_ALL') {
      if (disaggregated('DISAGGREGATION_SEX')) {
        out.push({ areaCode: area, sex: 'SEX_FEMALE', residence: 'RESIDENCE_ALL' });
        out.push({ areaCode: area, sex: 'SEX_MALE', residence: 'RESIDENCE_ALL' });
      }
      if (disaggregated('DISAGGREGATION_RESIDENCE')) {
        out.push({ areaCode: area, sex: 'SEX_TOTAL', residence: 'RESIDENCE_URBAN' });
        out.push({ areaCode: area, sex: 'SEX_TOTAL', residence: 'RESIDENCE_RURAL' });
      }
      if (disaggregated('DISAGGREGATION_AREA')) {
        childrenOf(area).forEach(function (c) { out.push({ areaCode: c.code, sex: 'SEX_TOTAL', residence: 'RESIDENCE_ALL' }); });
      }
    }
    return out;
  }

  function groupName(g) {
    return areaName(g.areaCode) + ' · ' + label('Sex', g.sex) + ' · ' + label('Residence', g.residence);
  }

  // The flags a point carries, in words.
  function flags(p) {
    var out = [];
    if (p.incomplete) {
      out.push({ cls: 'incomplete', text: '数据不完整：' + (p.contributingAreaCount || 0) + '/' + (p.expectedAreaCount || 0) +
          ' 个下级地区，部分数字 / incomplete, a part' });
    } else if (!p.direct && p.expectedAreaCount) {
      out.push({ cls: '', text: '下级汇总 ' + (p.contributingAreaCount || 0) + '/' + p.expectedAreaCount + ' / combined' });
    }
    if (p.direct) { out.push({ cls: 'direct', text: '本级直报 / reported directly' }); }
    if (p.published) { out.push({ cls: '', text: '公布数 / published figure' }); }
    if (p.publishedAreaCount) { out.push({ cls: '', text: p.publishedAreaCount + ' 个下级为公布数未计入 / published children left out' }); }
    if (p.containsUnapprovedData) { out.push({ cls: 'unapproved', text: '含未审核数据 / unapproved data' }); }
    if (p.childrenMismatch) { out.push({ cls: '', text: '下级合计 ' + figure(p.childrenValue) + ' 不一致 / children differ' }); }
    return out;
  }

  function seriesRows(tbody, g, r) {
    var points = (r.points || []).filter(function (p) { return p.value !== undefined; });
    if (!points.length) {
      tbody.appendChild(halfsky.el('tr', { 'data-group': groupName(g) }, [
        halfsky.el('td', { 'data-label': '地区', text: areaName(g.areaCode) }),
        halfsky.el('td', { 'data-label': '性别', text: label('Sex', g.sex) }),
        halfsky.el('td', { 'data-label': '城乡', text: label('Residence', g.residence) }),
        halfsky.el('td', { 'data-label': '年份', text: '—' }),
        halfsky.el('td', { 'data-label': '数值', text: '暂无数据 / no figure' }),
        halfsky.el('td', { 'data-label': '覆盖与说明', text: '' })
      ]));
      return;
    }
    points.forEach(function (p) {
      var note = halfsky.el('td', { 'data-label': '覆盖与说明' });
      flags(p).forEach(function (f) { note.appendChild(halfsky.el('span', { 'class': 'flag ' + f.cls, text: f.text })); });
      if (p.direct && !g.main) {
        // This group's own page: its chart and its values' revisions.
        note.appendChild(halfsky.el('a', { 'class': 'history', href: '/indicator?id=' + encodeURIComponent(ind.id) +
          '&area=' + encodeURIComponent(g.areaCode) + '&sex=' + g.sex + '&residence=' + g.residence + '#history-title',
          text: '修订记录 / history' }));
      }
      var attrs = { 'data-area': g.areaCode, 'data-sex': label('Sex', g.sex, 'token'),
        'data-residence': label('Residence', g.residence, 'token'), 'data-year': String(p.year),
        'data-incomplete': p.incomplete ? 'yes' : 'no' };
      if (g.main) { attrs['class'] = 'selected'; }
      tbody.appendChild(halfsky.el('tr', attrs, [
        halfsky.el('td', { 'data-label': '地区', text: areaName(g.areaCode) }),
        halfsky.el('td', { 'data-label': '性别', text: label('Sex', g.sex) }),
        halfsky.el('td', { 'data-label': '城乡', text: label('Residence', g.residence) }),
        halfsky.el('td', { 'data-label': '年份', text: String(p.year) }),
        halfsky.el('td', { 'data-label': '数值', text: figure(p.value) + (p.incomplete ? '（部分）' : '') }),
        note
      ]));
    });
  }

  // ---- the chart (chart.js) ---------------------------------------------------
  function chart(lines, targets, main) {
    var title = (ind.nameZh || ind.id) + '：' + groupName(main) + '，趋势与目标';
    halfsky.trendChart(document.getElementById('chart'), {
      title: title,
      unit: ind.unit,
      from: catalog.baseYear || 2020,
      to: catalog.finalYear || 2030,
      targets: targets,
      lines: lines.map(function (l) { return { name: groupName(l.group), main: l.group.main, points: l.points }; })
    });
    document.getElementById('chart-caption').textContent = title;
  }

  // ---- revision history ------------------------------------------------------
  function revisionValue(rev) {
    if (rev.withdrawn) { return '已撤回 / withdrawn'; }
    var v = rev.dataValue || {};
    if (v.fraction) { return '分子 ' + num(v.fraction.numerator || 0) + ' / 分母 ' + num(v.fraction.denominator || 0); }
    if (v.published) { return figure(v.published.value) + '（公布数）'; }
    if (v.value !== undefined) { return figure(v.value); }
    if (v.narrative) { return (v.narrative.text || '').substring(0, 200); }
    return '';
  }

  function history(main, years) {
    var st = document.getElementById('history-status');
    var tbody = document.querySelector('#history tbody');
    tbody.textContent = '';
    document.getElementById('history-title').firstChild.textContent = '修订记录（' + groupName(main) + '） ';
    if (!years.length) {
      st.className = 'status';
      st.textContent = '本组没有直接报送的数字 / no directly reported figure in this group';
      return Promise.resolve();
    }
    st.className = 'status';
    st.textContent = '加载中… / loading…';
    st.removeAttribute('data-denied');
    return Promise.all(years.map(function (year) {
      return halfsky.call('halfsky.v1.SubmissionService/GetHistory', { key: {
        indicatorId: ind.id, areaCode: main.areaCode, year: year, sex: main.sex, residence: main.residence } })
          .then(function (r) { return { year: year, revisions: r.revisions || [] }; });
    })).then(function (all) {
      var count = 0;
      all.forEach(function (h) {
        h.revisions.slice().reverse().forEach(function (rev) {
          count++;
          var by = (rev.submittedBy || '') + (rev.unitCode ? '（' + unitName(rev.unitCode) + '）' : '');
          tbody.appendChild(halfsky.el('tr', { 'data-year': String(h.year), 'data-revision': String(rev.revision || ''),
            'data-withdrawn': rev.withdrawn ? 'yes' : 'no' }, [
            halfsky.el('td', { 'data-label': '年份', text: String(h.year) }),
            halfsky.el('td', { 'data-label': '版本', text: '第 ' + (rev.revision || '') + ' 版' }),
            halfsky.el('td', { 'data-label': '数值', text: revisionValue(rev) }),
            halfsky.el('td', { 'data-label': '来源', text: (rev.dataValue && rev.dataValue.source) || '' }),
            halfsky.el('td', { 'data-label': '经办', text: by }),
            halfsky.el('td', { 'data-label': '时间', text: halfsky.formatTime(rev.committedAt) }),
            halfsky.el('td', { 'data-label': '修改原因', text: rev.changeReason || (String(rev.revision) === '1' ? '首次报送 / first' : '未填写 / not given') })
          ]));
        });
      });
      st.textContent = '共 ' + count + ' 个版本 / ' + count + ' revisions';
      document.body.setAttribute('data-history', String(count));
    }).catch(function (err) {
      showError(st, err);
      document.body.setAttribute('data-history', 'error');
    });
  }

  function loadSeries() {
    var area = document.getElementById('f-area').value || rootArea();
    var sex = document.getElementById('f-sex').value || 'SEX_TOTAL';
    var residence = document.getElementById('f-residence').value || 'RESIDENCE_ALL';
    var gs = groups(area, sex, residence);
    // The targets that apply to this area are its governing plan's.
    var plan = halfsky.governingPlan(catalog, area);
    var planLine = document.getElementById('plan');
    planLine.textContent = plan.titleZh ? '评估依据 plan：' + plan.titleZh + '（' + areaName(area) + '）' : '';
    planLine.setAttribute('data-plan', plan.code || '');
    var st = document.getElementById('series-status');
    st.className = 'status';
    st.textContent = '加载中… / loading…';
    st.removeAttribute('data-denied');
    return Promise.all(gs.map(function (g) {
      return halfsky.call('halfsky.v1.AggregationService/GetSeries',
          { indicatorId: ind.id, areaCode: g.areaCode, sex: g.sex, residence: g.residence });
    })).then(function (answers) {
      var tbody = document.querySelector('#series tbody');
      tbody.textContent = '';
      var lines = [];
      var targets = [];
      answers.forEach(function (r, i) {
        seriesRows(tbody, gs[i], r);
        var pts = (r.points || []).filter(function (p) { return p.value !== undefined; });
        if (pts.length) { lines.push({ group: gs[i], points: pts }); }
        if (gs[i].main) { targets = r.targets || []; }
      });
      chart(lines, targets, gs[0]);
      var main = (answers[0].points || []).filter(function (p) { return p.value !== undefined; });
      var incomplete = main.filter(function (p) { return p.incomplete; }).length;
      st.textContent = groupName(gs[0]) + '：' + main.length + ' 个年份有数' +
          (incomplete ? '，其中 ' + incomplete + ' 个数据不完整（部分地区）' : '') + ' / ' + main.length + ' years';
      document.body.setAttribute('data-series', String(main.length));
      return history(gs[0], main.filter(function (p) { return p.direct; }).map(function (p) { return p.year; }));
    }).catch(function (err) {
      showError(st, err);
      document.body.setAttribute('data-series', 'error');
    });
  }

  function fillSelect(id, options, selected) {
    var s = document.getElementById(id);
    s.textContent = '';
    options.forEach(function (o) {
      var opt = halfsky.el('option', { value: o.value, text: o.text });
      if (o.value === selected) { opt.selected = true; }
      s.appendChild(opt);
    });
  }

  function showIndex() {
    var ul = document.getElementById('indicator-list');
    (catalog.indicators || []).forEach(function (i) {
      ul.appendChild(halfsky.el('li', {}, [
        halfsky.el('a', { href: '/indicator?id=' + encodeURIComponent(i.id), text: i.id + ' ' + (i.nameZh || '') })
      ]));
    });
    document.getElementById('index').hidden = false;
    document.getElementById('title').firstChild.textContent = '指标 ';
    document.getElementById('status').textContent = '共 ' + (catalog.indicators || []).length + ' 项指标 / indicators';
  }

  document.addEventListener('DOMContentLoaded', function () {
    halfsky.boot({ requireCatalog: true }).then(function (booted) {
      L = booted.labels;
      catalog = booted.catalog;
      if (!id) { showIndex(); return null; }
      ind = byCode(catalog.indicators, id, 'id');
      var status = document.getElementById('status');
      if (!ind) {
        halfsky.showError(status, { message: '目录中没有这个指标 / no such indicator: ' + id });
        return null;
      }
      status.textContent = '';
      document.title = ind.nameZh + ' · 指标';
      var h = document.getElementById('title');
      h.textContent = ind.nameZh + ' ';
      h.appendChild(halfsky.el('span', { 'class': 'en', text: ind.id + (ind.nameEn ? ' ' + ind.nameEn : '') }));
      document.body.setAttribute('data-indicator', ind.id);
      showExplanation();
      var root = rootArea();
      var areas = [root].concat(childrenOf(root).map(function (a) { return a.code; }));
      var area = params.get('area') || root;
      if (areas.indexOf(area) < 0 && byCode(catalog.areas, area)) { areas.push(area); }
      fillSelect('f-area', areas.map(function (c) { return { value: c, text: areaName(c) }; }), area);
      fillSelect('f-sex', ['SEX_TOTAL', 'SEX_FEMALE', 'SEX_MALE'].map(function (v) { return { value: v, text: label('Sex', v) }; }),
          params.get('sex') || 'SEX_TOTAL');
      fillSelect('f-residence', ['RESIDENCE_ALL', 'RESIDENCE_URBAN', 'RESIDENCE_RURAL'].map(function (v) { return { value: v, text: label('Residence', v) }; }),
          params.get('residence') || 'RESIDENCE_ALL');
      document.getElementById('filters').addEventListener('submit', function (e) { e.preventDefault(); loadSeries(); });
      document.getElementById('indicator').hidden = false;
      return loadSeries();
    }).catch(function (err) { showError(document.getElementById('status'), err); });
  });
})();
