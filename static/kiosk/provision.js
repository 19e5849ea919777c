// The provisioning link carries its one-time code in the URL fragment (/kiosk/provision/#<code>), which a
// browser never sends to the server: it stays out of access logs and Referer headers. Copy it into the form
// (posted with the CSRF token when the person confirms) and drop it from the address bar and history.
"use strict";
(function () {
  var code = window.location.hash.replace(/^#/, "");
  if (!code) return;
  var field = document.getElementById("provision-code");
  if (field) field.value = decodeURIComponent(code);
  history.replaceState(null, "", window.location.pathname + window.location.search);
})();
