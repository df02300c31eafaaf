// The upload of a unit's filled report form (.xlsx) or CSV on its home page
// (/unit): POST /api/upload (raw bytes, CSRF header) with a progress bar;
// the server reads it with halfskyctl's own reading and answers what it
// wrote, or every problem by sheet and cell / line and column (upload.h).
'use strict';
(function () {
  function setState(section, state) { section.setAttribute('data-upload-state', state); }

  function showErrors(list, body) {
    list.textContent = '';
    (body.errors || []).forEach(function (e) { list.appendChild(halfsky.el('li', { text: e })); });
    var count = body.errorCount || 0;
    if (count > (body.errors || []).length) {
      list.appendChild(halfsky.el('li', { 'class': 'more', text: '……共 ' + count + ' 处错误，仅列出前 ' + body.errors.length + ' 处 / ' + count + ' problems in all, the first ' + body.errors.length + ' listed' }));
    }
  }

  // 报送 (ReviewService.SubmitForm) of each form the file filled; the unit
  // code is the caller's own, from its reporting board (a unit sees only
  // its own rows).
  function offerSubmit(forms) {
    var box = document.getElementById('upload-submit');
    box.textContent = '';
    forms.forEach(function (f) {
      halfsky.call('halfsky.v1.ReviewService/GetReviewBoard', { year: f.year }).then(function (r) {
        (r.rows || []).forEach(function (row) {
          var key = { unitCode: row.unitCode, areaCode: f.areaCode, year: f.year };
          var id = 'submit-' + [key.unitCode, key.areaCode, key.year].join('-');
          var b = halfsky.el('button', { type: 'button', id: id, 'data-year': String(f.year), 'data-area': f.areaCode,
            text: '报送 ' + f.year + ' 年报表（' + f.areaCode + '） / submit the ' + f.year + ' form' });
          b.addEventListener('click', function () {
            var status = document.getElementById('upload-status');
            status.className = 'status';
            status.textContent = '报送中… / submitting…';
            halfsky.call('halfsky.v1.ReviewService/SubmitForm', { key: key }).then(function () {
              status.textContent = '已报送 ' + f.year + ' 年报表，等待审核 / submitted, waiting for review';
              b.disabled = true;
              b.setAttribute('data-submitted', 'yes');
              var filters = document.getElementById('filters');
              if (filters && filters.requestSubmit) { filters.requestSubmit(); }
            }).catch(function (err) { halfsky.showError(status, err); });
          });
          box.appendChild(b);
        });
      }).catch(function (err) { halfsky.showError(document.getElementById('upload-status'), err); });
    });
  }

  function send(file) {
    var section = document.getElementById('upload');
    var bar = document.getElementById('upload-progress');
    var status = document.getElementById('upload-status');
    var list = document.getElementById('upload-errors');
    list.textContent = '';
    document.getElementById('upload-submit').textContent = '';
    status.className = 'status';
    bar.value = 0;
    setState(section, 'sending');
    status.textContent = '上传中… / uploading…';
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/upload?name=' + encodeURIComponent(file.name));
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('X-CSRF-Token', halfsky.cookie('halfsky_csrf'));
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
    };
    xhr.upload.onload = function () {
      bar.value = 100;
      status.textContent = '已上传，服务器校验并写入中… / uploaded; the server is checking and writing…';
    };
    xhr.onerror = function () {
      setState(section, 'error');
      halfsky.showError(status, { message: '网络错误，未完成上传 / network error, the upload did not complete' });
    };
    xhr.onload = function () {
      var body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = { message: xhr.responseText }; }
      if (xhr.status === 401) { location.href = '/signin?next=%2Funit'; return; }
      if (xhr.status === 200 && body.written) {
        setState(section, 'done');
        status.className = 'status';
        status.textContent = '已写入 ' + body.values + ' 条：新增 ' + body.created + '，修订 ' + body.revised +
            '，未变 ' + body.unchanged + (body.replayedChunks ? '（重复上传，未重复写入）' : '') +
            (body.blankFormRows ? '；未填 ' + body.blankFormRows + ' 行（跳过）' : '') +
            ' / written ' + body.values + ' values. ' + (body.sheets || '') +
            ' 核对无误后可在下表“报送” / when it is right, submit the form below.';
        offerSubmit(body.forms || []);
        var filters = document.getElementById('filters');
        if (filters && filters.requestSubmit) { filters.requestSubmit(); }
        return;
      }
      // "partial": earlier chunks were committed before one was refused (a
      // year locked or a form approved meanwhile): never shown as nothing.
      var partial = body.written === 'partial';
      setState(section, partial ? 'partial' : 'rejected');
      halfsky.showError(status, { message: (partial ? body.partialZh + '。' : '') +
          (body.message || ('请求失败 / request failed (' + xhr.status + ')')) });
      showErrors(list, body);
    };
    xhr.send(file);
  }

  document.addEventListener('DOMContentLoaded', function () {
    var form = document.getElementById('upload-form');
    if (!form) { return; }
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var input = document.getElementById('upload-file');
      if (!input.files || !input.files.length) {
        halfsky.showError(document.getElementById('upload-status'), { message: '请选择文件 / choose a file' });
        return;
      }
      send(input.files[0]);
    });
  });
})();
