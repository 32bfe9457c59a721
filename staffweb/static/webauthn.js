// vigil staff UI: passkey ceremonies (navigator.credentials) only. The
// server's options are go-webauthn's JSON (base64url binary fields); the
// answer goes back as the PublicKeyCredential's JSON. Everything else in
// the UI works without scripts.
(function () {
  'use strict';
  function b64u(buf) {
    var s = '', a = new Uint8Array(buf);
    for (var i = 0; i < a.length; i++) s += String.fromCharCode(a[i]);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function bin(s) {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    var b = atob(s), a = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) a[i] = b.charCodeAt(i);
    return a.buffer;
  }
  function post(url, body, name) {
    var h = { 'Content-Type': 'application/json' };
    var m = document.querySelector('meta[name="vigil-csrf"]');
    if (m) h['X-Vigil-CSRF'] = m.content;
    // The passkey's name, percent-encoded: a header is Latin-1 only.
    if (name) h['X-Vigil-Passkey-Name'] = encodeURIComponent(name);
    return fetch(url, { method: 'POST', headers: h, credentials: 'same-origin', body: JSON.stringify(body || {}) });
  }
  async function run(btn) {
    var status = document.getElementById(btn.dataset.status);
    status.textContent = btn.dataset.working;
    btn.disabled = true;
    try {
      var r = await post(btn.dataset.begin);
      var j = await r.json();
      if (!r.ok) throw j;
      var o = j.publicKey, body;
      o.challenge = bin(o.challenge);
      if (btn.dataset.webauthn === 'create') {
        o.user.id = bin(o.user.id);
        (o.excludeCredentials || []).forEach(function (c) { c.id = bin(c.id); });
        var c = await navigator.credentials.create({ publicKey: o });
        body = { id: c.id, rawId: b64u(c.rawId), type: c.type, response: {
          clientDataJSON: b64u(c.response.clientDataJSON), attestationObject: b64u(c.response.attestationObject) } };
      } else {
        (o.allowCredentials || []).forEach(function (c) { c.id = bin(c.id); });
        var a = await navigator.credentials.get({ publicKey: o });
        body = { id: a.id, rawId: b64u(a.rawId), type: a.type, response: {
          clientDataJSON: b64u(a.response.clientDataJSON), authenticatorData: b64u(a.response.authenticatorData),
          signature: b64u(a.response.signature), userHandle: a.response.userHandle ? b64u(a.response.userHandle) : null } };
      }
      var name = btn.dataset.name && document.getElementById(btn.dataset.name);
      r = await post(btn.dataset.finish, body, name && name.value.trim());
      j = await r.json();
      if (!r.ok) throw j;
      location.assign(j.next);
    } catch (e) {
      status.textContent = (e && e.error) || btn.dataset.failed;
      btn.disabled = false;
      if (e && e.next) setTimeout(function () { location.assign(e.next); }, 4000);
    }
  }
  if (!window.PublicKeyCredential) return;
  document.querySelectorAll('button[data-webauthn]').forEach(function (b) {
    b.hidden = false;
    var row = b.dataset.name && document.getElementById(b.dataset.name + '-row');
    if (row) row.hidden = false;
    b.addEventListener('click', function () { run(b); });
  });
})();
