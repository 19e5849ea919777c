/* Kiosk page. The server decides every step; this script shows what it says and sends what it asks for.
   CSP 'self': no inline code; configuration comes from the json_script blocks in the page. */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("kiosk-config").textContent);
  var demoCards = JSON.parse(document.getElementById("kiosk-demo-cards").textContent);
  var S = config.strings;
  var app = document.getElementById("app");
  var csrf = app.dataset.csrf;
  var session = null;       // the server's view of the session (SessionOutput)
  var stream = null;        // camera MediaStream
  var faceLoop = false;     // true while frames are being sent
  var frameInFlight = null; // the frame request being answered, if any
  var pollTimer = null;
  var pendingKey = {};      // idempotency keys per money form, reused on retries / double taps
  var busy = false;
  var welcome = "";         // "Match 93 % — authorised. Welcome, …" from the verifying frame

  function $(id) { return document.getElementById(id); }

  function show(name) {
    document.querySelectorAll("[data-screen]").forEach(function (el) {
      el.hidden = el.dataset.screen !== name;
    });
    hideError();
  }

  // The message goes just under what it is about (the form, the note acceptor, else the screen's end), not
  // in a strip at the foot of a tall portrait display (issue 23).
  function showError(text) {
    var e = $("error"); e.textContent = text; e.hidden = false;
    var screen = document.querySelector("[data-screen]:not([hidden])");
    if (!screen) { return; }
    var form = screen.querySelector("form, .acceptor");
    if (form) { form.insertAdjacentElement("afterend", e); return; }
    (screen.querySelector(".face__side") || screen).appendChild(e);
  }
  function hideError() { $("error").hidden = true; }

  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var bytes = new Uint8Array(16); crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": csrf } };
    if (body instanceof FormData) {
      options.body = body;
    } else if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(config.api + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function sessionPath(action) { return "sessions/" + session.id + "/" + (action ? action + "/" : ""); }

  /* ---------- keypads ---------- */
  document.querySelectorAll(".keypad").forEach(function (pad) {
    var input = $(pad.dataset.target);
    var form = pad.closest("form");
    if (form) {
      form.addEventListener("focusin", function (event) {
        if (event.target.tagName === "INPUT") { input = event.target; }
      });
    }
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "⌫", "0", "C"].forEach(function (key) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "key"; b.textContent = key;
      b.addEventListener("click", function () {
        if (key === "⌫") { input.value = input.value.slice(0, -1); }
        else if (key === "C") { input.value = ""; }
        else if (input.value.length < (input.maxLength > 0 ? input.maxLength : 30)) { input.value += key; }
      });
      pad.appendChild(b);
    });
  });

  demoCards.forEach(function (card) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "btn btn--demo"; b.textContent = card.name + " ·" + card.pan.slice(-4);
    b.addEventListener("click", function () { startSession(card.pan, card.expiry); });
    $("demo-cards") && $("demo-cards").appendChild(b);
  });

  /* ---------- session flow ---------- */
  /* A keyboard-wedge card reader types track 2 (";PAN=YYMM…?") into the focused card field; a person types
     the number and the expiry (MM/YY). The server checks both against the card. */
  function cardRead(number, expiry) {
    var raw = (number || "").trim();
    if (raw.charAt(0) === ";" || raw.indexOf("=") > 0) { return { track2: raw }; }
    return { card_number: raw, expiry: (expiry || "").trim() };
  }

  function startSession(pan, expiry) {
    if (busy) { return; }
    busy = true;
    welcome = "";
    api("POST", "sessions/", cardRead(pan, expiry)).then(function (r) {
      busy = false;
      $("card-number").value = "";
      $("card-expiry").value = "";
      if (!r.ok) { showError(r.data.detail || S.network_error); return; }
      follow(r.data);
    }, function () { busy = false; showError(S.network_error); });
  }

  /* Route to the screen for the server's state. */
  function follow(data) {
    session = data;
    rememberSession(data.state === "ended" ? null : data.id);
    updateTimer();
    var state = data.state;
    if (state === "card_entered" || state === "face_pending") {
      if (!faceLoop) { startFace(); }
      return;
    }
    stopFace();
    if (state === "pin_pending") { cardlessPinShow(); startPolling(); return; }
    if (state === "face_failed") {
      $("failure-message").textContent = data.message;
      modeTexts(data.mode);
      offerTitle(data.face_failure_reason);
      show("otp-offer");
    } else if (state === "otp_sent") {
      show("otp");
    } else if (state === "verified" || state === "in_menu") {
      if (!document.querySelector('[data-screen="menu"]').hidden) { return; }
      var onMenuScreens = ["withdraw", "deposit", "escrow", "result"].some(function (n) {
        return !document.querySelector('[data-screen="' + n + '"]').hidden;
      });
      $("menu-welcome").textContent = welcome || (data.first_name ? S.welcome.replace("%(name)s", data.first_name) : "");
      if (!onMenuScreens) { show("menu"); }
    } else if (state === "ended") {
      finish(data.message || endedText());
    }
    startPolling();
  }

  /* Card-less sessions have no card: show the texts of the session's mode (issue 23). */
  function modeTexts(mode) {
    document.querySelectorAll("[data-mode]").forEach(function (el) {
      el.hidden = el.getAttribute("data-mode") !== (mode === "cardless" ? "cardless" : "card");
    });
  }
  function endedText() {
    return session && session.mode === "cardless" ? S.session_ended_cardless : S.session_ended;
  }

  function finish(message) {
    stopFace();
    stopPolling();
    session = null;
    rememberSession(null);
    $("timer").textContent = "";
    $("message-body").textContent = message;
    show("message");
    window.setTimeout(function () {
      if (session === null) { show("card"); }
    }, 8000);
  }

  /* The session id lives in this tab's sessionStorage so that a reload (a language switch) resumes the same
     session; what is shown then is the server's state, read afresh. */
  var SESSION_KEY = "kiosk-session";
  function rememberSession(id) {
    try {
      if (id) { window.sessionStorage.setItem(SESSION_KEY, id); } else { window.sessionStorage.removeItem(SESSION_KEY); }
    } catch (e) { /* storage disabled: a reload starts at the card screen */ }
  }
  function resumeSession() {
    var id = null;
    try { id = window.sessionStorage.getItem(SESSION_KEY); } catch (e) { id = null; }
    if (!id) { return; }
    session = { id: id };
    api("GET", sessionPath("")).then(function (r) {
      if (r.ok && r.data.state !== "ended") { follow(r.data); } else { session = null; rememberSession(null); }
    }, function () { session = null; });
  }

  function updateTimer() {
    if (!session || !session.seconds_left) { $("timer").textContent = ""; moreTime(false); return; }
    var left = session.seconds_left;
    var secs = Math.min.apply(null, Object.keys(left).map(function (k) { return left[k]; }));
    $("timer").textContent = isFinite(secs) ? S.seconds_left.replace("%(seconds)s", secs) : "";
    /* Before the idle timeout ends the session, ask (issue 23); the face check has its own timer. */
    var asking = !faceLoop && left.idle !== undefined && left.idle <= MORE_TIME_S && left.idle < (left.session || Infinity);
    moreTime(asking);
  }
  var MORE_TIME_S = 15;
  function moreTime(on) { $("more-time").hidden = !on; }
  $("more-time-yes").addEventListener("click", function () {
    if (!session) { return; }
    moreTime(false);
    api("POST", sessionPath("keepalive")).then(function (r) {
      if (r.ok) { session = r.data; updateTimer(); }
    });
  });

  /* The server enforces timeouts; polling only shows them (it does not keep the session alive). */
  function startPolling() {
    stopPolling();
    pollTimer = window.setInterval(function () {
      if (!session || faceLoop) { return; }
      api("GET", sessionPath("")).then(function (r) {
        if (r.ok && session) {
          if (r.data.state !== session.state) { follow(r.data); } else { session = r.data; updateTimer(); }
        } else if (r.status === 404 || r.status === 401) { finish(endedText()); }
      });
    }, 2000);
  }
  function stopPolling() { if (pollTimer) { window.clearInterval(pollTimer); pollTimer = null; } }

  /* ---------- face check ---------- */
  var video = $("video");
  var overlay = $("overlay");
  var grab = document.createElement("canvas");
  grab.width = 640; grab.height = 480;

  function startFace() {
    show("face");
    $("face-message").textContent = S.verifying;
    $("face-challenge").hidden = true;
    $("face-progress").style.width = "0%";
    faceLoop = true;
    stopPolling();
    var ready = stream ? Promise.resolve(stream) : navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" }, audio: false
    });
    ready.then(function (s) {
      stream = s;
      video.srcObject = s;
      return video.play();
    }).then(function () {
      sendFrame();
    }).catch(function () {
      faceLoop = false;
      showError(S.camera_error);
      startPolling();
    });
  }

  function stopFace() {
    faceLoop = false;
    var ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; video.srcObject = null; }
  }

  /* One request in flight at most; about config.frame_interval_ms between frame starts. */
  function sendFrame() {
    if (!faceLoop || !session) { return; }
    if (video.readyState < 2) { window.setTimeout(sendFrame, 100); return; }
    if (video.videoWidth && video.videoHeight) {
      grab.height = Math.round(grab.width * video.videoHeight / video.videoWidth);
    }
    var started = Date.now();
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    grab.toBlob(function (blob) {
      if (!faceLoop || !session) { return; }
      var form = new FormData();
      form.append("frame", blob, "frame.jpg");
      form.append("nonce", session.frame_nonce || "");
      form.append("seq", String(session.next_seq));
      var sent = session;
      var request = frameInFlight = api("POST", sessionPath("frames"), form);
      request.then(function (r) {
        if (!faceLoop || session !== sent) { return; }  // cancelled (or another session) meanwhile
        if (r.ok) {
          if (r.data.outcome === "verified") { welcome = r.data.message; }
          drawResult(r.data);
          showInstruction(r.data);
          follow(r.data.session);
        } else if (r.data.code === "frame_sequence" || r.data.code === "frame_replayed") {
          /* resynchronise with the server and carry on */
          return api("GET", sessionPath("")).then(function (s) { if (s.ok) { session = s.data; follow(s.data); } });
        } else if (r.status === 409 || r.status === 404) {
          return api("GET", sessionPath("")).then(function (s) { if (s.ok) { follow(s.data); } else { finish(r.data.detail); } });
        } else {
          $("face-message").textContent = r.data.detail || S.network_error;
        }
      }, function () {
        $("face-message").textContent = S.network_error;
      }).then(function () {
        if (frameInFlight === request) { frameInFlight = null; }
        var wait = Math.max(0, config.frame_interval_ms - (Date.now() - started));
        if (faceLoop) { window.setTimeout(sendFrame, wait); }
      });
    }, "image/jpeg", 0.85);
  }

  /* Boxes come in frame pixels; the preview is mirrored, so x is flipped to match what people see.
     Before the decision the server says nothing about the match, so the box is neutral and unlabelled;
     once verified it turns green with the owner's first name and the match percentage. */
  function drawResult(result) {
    var w = overlay.clientWidth, h = overlay.clientHeight;
    var ratio = window.devicePixelRatio || 1;
    overlay.width = Math.round(w * ratio); overlay.height = Math.round(h * ratio);
    var ctx = overlay.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, w, h);
    /* The frame is the whole camera picture; the preview shows it with object-fit: cover. Map frame pixels
       to the preview with one scale for both axes and the crop offsets, as the browser draws the video. */
    var vw = video.videoWidth || result.frame_width, vh = video.videoHeight || result.frame_height;
    var cover = Math.max(w / vw, h / vh);
    var sx = cover * vw / result.frame_width, sy = cover * vh / result.frame_height;
    var ox = (w - vw * cover) / 2, oy = (h - vh * cover) / 2;
    var drawn = [];
    var verified = result.outcome === "verified";
    ctx.lineWidth = 4;
    ctx.font = "bold " + Math.round(h / 22) + "px sans-serif";
    result.boxes.forEach(function (box) {
      var left = w - ox - box.right * sx, top = oy + box.top * sy;
      var bw = (box.right - box.left) * sx, bh = (box.bottom - box.top) * sy;
      drawn.push([left, top, bw, bh]);
      ctx.strokeStyle = verified ? "#22c55e" : (result.outcome === "failed" ? "#ef4444" : "#e2e8f0");
      ctx.strokeRect(left, top, bw, bh);
      if (verified && result.boxes.length === 1) {
        var label = result.session.first_name + " · " + S.match + " " + result.match_percent + " %";
        ctx.fillStyle = "rgba(0,0,0,0.6)";
        ctx.fillRect(left, Math.max(0, top - h / 16), Math.max(bw, ctx.measureText(label).width + 12), h / 16);
        ctx.fillStyle = "#fff";
        ctx.fillText(label, left + 6, Math.max(h / 22, top - h / 60));
      }
    });
    overlay.dataset.boxes = JSON.stringify(drawn);
    overlay.dataset.drawnFor = Math.round(w) + "x" + Math.round(h);
    var needed = result.session.frames_required || config.frames_required;
    var progress = result.session.face_progress;
    if (typeof progress !== "number") { progress = 100 * result.session.match_streak / needed; }
    $("face-progress").style.width = Math.min(100, progress) + "%";
  }

  /* One instruction at a time: the liveness challenge while the face is fine, otherwise the hint (a second
     person, too far, too dark) or the decision. */
  function showInstruction(result) {
    var challenge = $("face-challenge");
    var text = result.session.challenge_text || "";
    var showChallenge = result.outcome === "checking" && !!text &&
      (result.hint === "turn_as_asked" || result.hint === "look_at_camera" || result.hint === "open_mouth");
    /* "a little further" is said under the challenge, which stays shown */
    if (result.outcome === "checking" && text && result.hint === "turn_further") {
      challenge.textContent = text; challenge.hidden = false; $("face-message").textContent = result.message;
      return;
    }
    challenge.textContent = showChallenge ? text : "";
    challenge.hidden = !showChallenge;
    $("face-message").textContent = showChallenge ? "" : result.message;
  }

  /* ---------- OTP ---------- */
  function otpRequest() {
    if (busy) { return; }
    busy = true;
    api("POST", sessionPath("otp")).then(function (r) {
      busy = false;
      if (r.ok) { follow(r.data); show("otp"); } else { handleRefusal(r); }
    }, function () { busy = false; showError(S.network_error); });
  }

  $("otp-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }
    busy = true;
    var code = $("otp-code").value;
    $("otp-code").value = "";
    api("POST", sessionPath("otp/verify"), { code: code }).then(function (r) {
      busy = false;
      if (r.ok) { follow(r.data); } else { handleRefusal(r); }
    }, function () { busy = false; showError(S.network_error); });
  });

  /* The code offer's title: the face passed but a code is needed (step-up), or the face check failed. */
  function offerTitle(reason) {
    var title = $("otp-offer-title");
    title.textContent = (reason === "step_up" || reason === "grey_zone") ? title.dataset.stepUp : title.dataset.default;
  }

  function handleRefusal(r) {
    /* otp_unavailable: no code for this card now, and the server has ended the session */
    if (r.data.code === "session_ended" || r.data.code === "session_timeout" || r.data.code === "card_blocked" || r.data.code === "otp_unavailable" || r.status === 404) {
      finish(r.data.detail || endedText());
      return;
    }
    if (r.data.code === "step_up_required") {  /* a large amount: the code is asked, on the code screen */
      $("failure-message").textContent = r.data.detail;
      offerTitle("step_up");
      show("otp-offer");
      return;
    }
    showError(r.data.detail || S.network_error);
  }

  /* ---------- menu ---------- */
  /* Amounts in the page's language: "135,00 €" in Russian, "€135.00" in English. */
  function money(value) {
    var amount = Number(value);
    try {
      var whole = typeof value === "number" && Number.isInteger(value);
      return new Intl.NumberFormat(document.documentElement.lang, {
        style: "currency", currency: config.currency, minimumFractionDigits: whole ? 0 : 2
      }).format(amount);
    } catch (e) { return value + " " + config.currency; }
  }

  function receipt(title, rows) {
    $("result-title").textContent = title;
    var body = $("result-body");
    body.textContent = "";
    rows.forEach(function (row) {
      var line = document.createElement("div");
      line.className = "receipt__row";
      if (row[2]) {
        var when = document.createElement("span"); when.className = "receipt__when"; when.textContent = row[2];
        line.appendChild(when);
      }
      var k = document.createElement("span"); k.textContent = row[0];
      var v = document.createElement("strong"); v.textContent = row[1];
      line.appendChild(k); line.appendChild(v); body.appendChild(line);
    });
    show("result");
  }

  function balance() {
    api("GET", sessionPath("balance")).then(function (r) {
      if (!r.ok) { handleRefusal(r); return; }
      receipt(S.balance_title, [[S.balance_title, money(r.data.balance)], [S.available_today, money(r.data.available_today)]]);
    }, function () { showError(S.network_error); });
  }

  function statement() {
    api("GET", sessionPath("statement")).then(function (r) {
      if (!r.ok) { handleRefusal(r); return; }
      var labels = { withdrawal: S.withdrawal, deposit: S.deposit };
      var rows = r.data.map(function (t) {
        var sign = t.kind === "withdrawal" ? "−" : "+";
        var when = new Date(t.created_at).toLocaleString(document.documentElement.lang, {
          day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit"
        });
        return [labels[t.kind] || t.kind, sign + money(t.amount), when];
      });
      receipt(S.statement_title, rows.length ? rows : [[S.no_transactions, ""]]);
    }, function () { showError(S.network_error); });
  }

  function moneyRequest(kind, amount) {
    if (busy) { return; }
    busy = true;
    if (!pendingKey[kind]) { pendingKey[kind] = newKey(); }
    var path = "withdrawals";  // deposits never send an amount: see the note acceptor below
    api("POST", sessionPath(path), { amount: String(amount), idempotency_key: pendingKey[kind] }).then(function (r) {
      busy = false;
      if (!r.ok) {
        if (r.status < 500) { pendingKey[kind] = null; }
        handleRefusal(r);
        return;
      }
      pendingKey[kind] = null;
      var d = r.data;
      var rows = [[kind === "withdraw" ? S.withdrawal : S.deposit, money(d.amount)], [S.balance_after, money(d.balance_after)]];
      if (d.notes.length) {
        rows.push([S.notes, d.notes.map(function (n) { return n.count + " × " + n.denomination; }).join(", ")]);
      }
      rows.push(["", [d.masked_pan, d.kiosk].filter(Boolean).join(" · ")]);
      rows.push(["", new Date(d.created_at).toLocaleString(document.documentElement.lang)]);
      receipt(kind === "withdraw" ? S.dispensing : S.deposited, rows);
    }, function () { busy = false; showError(S.network_error); });
  }

  $("note-hint").textContent = "× " + config.smallest_note + " " + config.currency;
  config.presets.forEach(function (amount) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "btn btn--tile"; b.textContent = money(amount);
    b.addEventListener("click", function () { moneyRequest("withdraw", amount); });
    $("presets").appendChild(b);
  });

  $("card-form").addEventListener("submit", function (event) {
    event.preventDefault();
    startSession($("card-number").value, $("card-expiry").value);
  });
  $("withdraw-form").addEventListener("submit", function (event) {
    event.preventDefault();
    moneyRequest("withdraw", $("withdraw-amount").value);
    $("withdraw-amount").value = "";
  });

  /* ---------- deposit: the kiosk opens it → the cash-in module counts → escrow → confirm or cancel ----------
     The cash-in module is a device of its own: it signs its count reports, and this page's credential cannot
     report notes. The page opens the deposit and waits for the count. In development only, a simulated
     acceptor plays the module (simulated-cash-in/: the server signs with the module's key; 404 in production).
     The page never sends an amount: the server credits counted notes. */
  var tray = {};            // simulated acceptor: denomination → notes inserted and not yet counted
  var escrowKey = null;     // the key of the notes held in escrow, confirmed or cancelled by the customer
  var escrowPoll = null;
  var acceptor = !!$("acceptor-notes");

  function onScreen(name) { return !document.querySelector('[data-screen="' + name + '"]').hidden; }
  function trayCount() { return Object.keys(tray).reduce(function (n, k) { return n + tray[k]; }, 0); }

  function showTray() {
    if (!acceptor) { return; }
    var parts = Object.keys(tray).map(Number).sort(function (a, b) { return b - a; }).map(function (value) {
      return tray[value] + " × " + value;
    });
    $("acceptor-tray").textContent = parts.length ? S.inserted.replace("%(notes)s", parts.join(", ")) : S.tray_empty;
    $("acceptor-count").disabled = parts.length === 0;
  }

  function noteRows(notes) {
    return notes.map(function (n) { return [n.count + " × " + n.denomination, money((n.count * n.denomination).toFixed(2))]; });
  }

  function stopEscrowPoll() { if (escrowPoll) { clearTimeout(escrowPoll); escrowPoll = null; } }

  function showEscrow(d) {
    stopEscrowPoll();
    escrowKey = d.idempotency_key;
    tray = {};
    $("escrow-total").textContent = S.counted.replace("%(amount)s", money(d.total));
    var body = $("escrow-notes");
    body.textContent = "";
    noteRows(d.notes).forEach(function (row) {
      var line = document.createElement("div");
      line.className = "receipt__row";
      var k = document.createElement("span"); k.textContent = row[0];
      var v = document.createElement("strong"); v.textContent = row[1];
      line.appendChild(k); line.appendChild(v); body.appendChild(line);
    });
    show("escrow");
  }

  function pollEscrow() {
    stopEscrowPoll();
    if (!session || !onScreen("deposit")) { return; }
    api("GET", sessionPath("deposits/escrow")).then(function (r) {
      if (!onScreen("deposit")) { return; }
      if (!r.ok) { handleRefusal(r); return; }
      if (r.data.counted) { showEscrow(r.data); return; }
      escrowPoll = setTimeout(pollEscrow, 1000);
    }, function () { escrowPoll = setTimeout(pollEscrow, 2000); });
  }

  function showDeposit() {
    if (busy) { return; }
    busy = true;
    api("POST", sessionPath("deposits/open")).then(function (r) {
      busy = false;
      if (!r.ok) { handleRefusal(r); return; }
      tray = {};
      pendingKey.deposit = null;
      showTray();
      show("deposit");
      pollEscrow();
    }, function () { busy = false; showError(S.network_error); });
  }

  function depositBack() {
    stopEscrowPoll();
    api("POST", sessionPath("deposits/cancel")).then(function () { show("menu"); }, function () { show("menu"); });
  }

  if (acceptor) {
    config.deposit_notes.forEach(function (value) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "btn btn--note"; b.textContent = "+ " + value + " " + config.currency;
      b.dataset.note = String(value);
      b.addEventListener("click", function () {
        if (trayCount() >= config.deposit_max_notes) { return; }
        tray[value] = (tray[value] || 0) + 1;
        showTray();
      });
      $("acceptor-notes").appendChild(b);
    });

    $("acceptor-clear").addEventListener("click", function () { tray = {}; showTray(); });

    $("acceptor-count").addEventListener("click", function () {
      if (busy || !trayCount()) { return; }
      busy = true;
      if (!pendingKey.deposit) { pendingKey.deposit = newKey(); }
      var notes = {};
      Object.keys(tray).forEach(function (value) { notes[value] = tray[value]; });
      api("POST", sessionPath("simulated-cash-in"), { notes: notes, idempotency_key: pendingKey.deposit }).then(function (r) {
        busy = false;
        if (!r.ok) {
          if (r.status < 500) { pendingKey.deposit = null; }
          handleRefusal(r);
          return;
        }
        showEscrow(r.data);
      }, function () { busy = false; showError(S.network_error); });
    });
  }

  function depositConfirm() {
    if (busy || !escrowKey) { return; }
    busy = true;
    api("POST", sessionPath("deposits"), { idempotency_key: escrowKey }).then(function (r) {
      busy = false;
      if (!r.ok) { handleRefusal(r); return; }
      escrowKey = null;
      pendingKey.deposit = null;
      var d = r.data;
      var rows = [[S.deposit, money(d.amount)], [S.balance_after, money(d.balance_after)]];
      rows.push([S.notes, d.notes.map(function (n) { return n.count + " × " + n.denomination; }).join(", ")]);
      rows.push(["", [d.masked_pan, d.kiosk].filter(Boolean).join(" · ")]);
      rows.push(["", new Date(d.created_at).toLocaleString(document.documentElement.lang)]);
      receipt(S.deposited, rows);
    }, function () { busy = false; showError(S.network_error); });  // a retry reuses escrowKey: credited once
  }

  function depositCancel() {
    if (busy) { return; }
    busy = true;
    api("POST", sessionPath("deposits/cancel")).then(function (r) {
      busy = false;
      if (!r.ok) { handleRefusal(r); return; }
      escrowKey = null;
      pendingKey.deposit = null;
      receipt(S.deposit_cancelled, [[S.notes_returned, money(r.data.total)]].concat(noteRows(r.data.notes)));
    }, function () { busy = false; showError(S.network_error); });
  }

  var actions = {
    "cancel": endSession,
    "end": endSession,
    "otp-request": otpRequest,
    "balance": balance,
    "statement": statement,
    "menu": function () { show("menu"); },
    "show-withdraw": function () { pendingKey.withdraw = null; show("withdraw"); },
    "show-deposit": showDeposit,
    "deposit-confirm": depositConfirm,
    "deposit-cancel": depositCancel,
    "deposit-back": depositBack,
    "restart": function () { show("card"); }
  };
  app.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("button")) { hideError(); }
  }, true);
  document.querySelectorAll("[data-action]").forEach(function (el) {
    el.addEventListener("click", function () { actions[el.dataset.action](); });
  });

  function endSession() {
    if (!session) { show("card"); return; }
    faceLoop = false;
    /* One request at a time per kiosk: the end waits for the frame being answered, if any. */
    var path = sessionPath("end");
    var settled = frameInFlight ? frameInFlight.catch(function () {}) : Promise.resolve();
    settled.then(function () { return api("POST", path); }).then(function (r) {
      finish((r.data && r.data.message) || endedText());
    }, function () { finish(endedText()); });
  }

  /* ---------- card-less: phone number → face → PIN ----------
     The phone screen starts a session whatever the number (the server answers a known and an unknown
     number alike); the face screen is the card path's; the PIN screen comes after the face or the code. */
  function cardlessStart(phone) {
    if (busy) { return; }
    busy = true;
    welcome = "";
    api("POST", "sessions/cardless/", { phone: phone }).then(function (r) {
      busy = false;
      $("cardless-phone").value = "";
      if (!r.ok) { showError(r.data.detail || S.network_error); return; }
      follow(r.data);
    }, function () { busy = false; showError(S.network_error); });
  }

  function cardlessPinShow() {
    if (!document.querySelector('[data-screen="cardless-pin"]').hidden) { return; }
    $("cardless-pin").value = "";
    show("cardless-pin");
  }

  $("cardless-start").addEventListener("click", function () { show("cardless-phone"); $("cardless-phone").focus(); });
  $("cardless-back").addEventListener("click", function () { show("card"); });
  $("cardless-phone-form").addEventListener("submit", function (event) {
    event.preventDefault();
    cardlessStart($("cardless-phone").value);
  });
  $("cardless-pin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || !session) { return; }
    busy = true;
    var pin = $("cardless-pin").value;
    $("cardless-pin").value = "";
    api("POST", sessionPath("pin"), { pin: pin }).then(function (r) {
      busy = false;
      if (r.ok) { follow(r.data); return; }
      if (r.data.code === "cardless_disabled") { finish(r.data.detail); return; }
      handleRefusal(r);
    }, function () { busy = false; showError(S.network_error); });
  });

  show("card");
  resumeSession();

  /* ---------- heartbeat: the back office shows this kiosk offline when these stop ---------- */
  (function () {
    var lastError = "";
    function remember(text) { lastError = String(text || "").replace(/[\x00-\x1f\x7f]/g, " ").slice(0, 200); }
    window.addEventListener("error", function (event) { remember(event.message); });
    window.addEventListener("unhandledrejection", function (event) { remember(event.reason); });
    function beat() {
      var sent = lastError;
      api("POST", "heartbeat/", { error: sent }).then(function (r) {
        if (r.ok && lastError === sent) { lastError = ""; }
      }, function () {});
    }
    beat();
    window.setInterval(beat, 30000);
  })();
})();
