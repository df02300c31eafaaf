// Sign-in: POST /api/session {token}; on success go to ?next= (or the board).
'use strict';
document.addEventListener('DOMContentLoaded', function () {
  var form = document.getElementById('signin-form');
  var status = document.getElementById('status');
  function next() {
    var n = new URLSearchParams(location.search).get('next') || '/warnings';
    return /^\/[a-z]/.test(n) ? n : '/warnings';  // same-site paths only
  }
  function signIn(token) {
    status.className = 'status';
    status.textContent = '正在验证… / checking…';
    return fetch('/api/session', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: token })
    }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw body; }
        location.replace(next());
      });
    }).catch(function (err) { halfsky.showError(status, err); });
  }
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    signIn(document.getElementById('token').value.trim());
  });
  // A token in the fragment (#token=…, never sent to any server) signs in at
  // once: for scripted use; the fragment is dropped from history.
  var m = /[#&]token=([^&]+)/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname + location.search);
    signIn(decodeURIComponent(m[1]));
  }
});
