// Branch enrolment camera page. No inline script (CSP script-src 'self'): URLs and the CSRF token come from
// data-* attributes, the initial progress from a json_script block.
(function () {
  "use strict";

  const root = document.getElementById("enrol");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const video = $("camera");
  const canvas = $("frame");
  const feedback = $("feedback");
  const shootButton = $("shoot");
  const autoButton = $("auto");
  const submitButton = $("submit");
  const recordButton = $("record");
  const CLIP_SECONDS = 5;
  const thumbs = $("thumbs");
  let progress = JSON.parse($("enrol-progress").textContent);
  let busy = false;
  let autoTimer = null;
  let stream = null;

  function say(text, kind) {
    feedback.textContent = text;
    feedback.className = "feedback " + (kind || "");
  }

  function updateCounter() {
    $("taken").textContent = progress.photos_taken;
    $("required").textContent = progress.photos_required;
    const share = Math.min(100, (100 * progress.photos_taken) / progress.photos_required);
    $("capture-bar").style.width = share + "%";
    const complete = progress.photos_taken >= progress.photos_required;
    submitButton.disabled = !complete || busy;
    shootButton.disabled = complete || busy || !stream;
    autoButton.disabled = complete || !stream;
    recordButton.disabled = complete || busy || !stream || typeof MediaRecorder === "undefined";
    if (complete) {
      stopAuto();
      say("All photos taken. Submit the enrolment.", "ok");
    }
  }

  async function api(url, options) {
    const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options || {}));
    let body = {};
    try {
      body = await response.json();
    } catch (error) {
      body = { detail: "The server answered " + response.status + "." };
    }
    return { ok: response.ok, status: response.status, body: body };
  }

  function post(url, formData) {
    return api(url, { method: "POST", body: formData, headers: { "X-CSRFToken": root.dataset.csrf } });
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("This browser cannot use the camera (a secure https page is needed).", "error");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" },
        audio: false,
      });
      video.srcObject = stream;
      await video.play();
      fitPreview();
      video.addEventListener("resize", fitPreview);  // the camera may change its frame size
      say(readyMessage(), progress.photos_taken >= progress.photos_required ? "ok" : "");
    } catch (error) {
      say("The camera could not be opened: " + error.message, "error");
    }
    updateCounter();
  }

  // The preview box takes the camera's aspect ratio: the whole frame, the guide circle on a centred face.
  function fitPreview() {
    if (video.videoWidth && video.videoHeight) {
      video.parentElement.style.setProperty("--camera-ratio", String(video.videoWidth / video.videoHeight));
    }
  }

  function grab() {
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  }

  // Kept shots come from the server (decrypted on the fly, never cached), so the strip is the same after a
  // reload or a clip; a refused shot is shown from the local blob until the next one.
  function thumbnailUrl(photoId) {
    return root.dataset.thumbnailUrl.replace(/\/0\/thumbnail\.jpg$/, "/" + photoId + "/thumbnail.jpg");
  }

  function showKept(ids) {
    thumbs.querySelectorAll("li.ok").forEach((old) => {
      if (ids.indexOf(Number(old.dataset.photoId)) < 0) old.remove();
    });
    ids.forEach((id, index) => {
      if (thumbs.querySelector('li.ok[data-photo-id="' + id + '"]')) return;
      const item = document.createElement("li");
      item.className = "ok";
      item.dataset.photoId = String(id);
      const image = document.createElement("img");
      image.alt = "Kept photo " + (index + 1);
      image.src = thumbnailUrl(id);
      item.appendChild(image);
      thumbs.appendChild(item);
    });
  }

  async function refreshKept() {
    const answer = await api(root.dataset.statusUrl);
    if (answer.ok && Array.isArray(answer.body.kept_photo_ids)) {
      progress.photos_taken = answer.body.photos_taken;
      showKept(answer.body.kept_photo_ids);
    }
  }

  function addRefused(blob, text) {
    thumbs.querySelectorAll("li.rejected").forEach((old) => old.remove());
    const item = document.createElement("li");
    item.className = "rejected";
    const image = document.createElement("img");
    image.alt = "Refused photo";
    image.src = URL.createObjectURL(blob);
    item.appendChild(image);
    item.title = text;
    thumbs.appendChild(item);
  }

  function readyMessage() {
    if (progress.photos_taken >= progress.photos_required) return "All photos taken. Submit the enrolment.";
    if (progress.photos_taken === 0) return "Camera ready. Take the first photo.";
    return "Camera ready. " + progress.photos_taken + " of " + progress.photos_required +
      " photos already taken: take the next one.";
  }

  async function shoot() {
    if (busy || !stream || progress.photos_taken >= progress.photos_required) return;
    busy = true;
    shootButton.disabled = true;
    say("Checking the photo…", "");
    try {
      const blob = await grab();
      if (!blob) throw new Error("no image from the camera");
      const form = new FormData();
      form.append("photo", blob, "shot.jpg");
      const answer = await post(root.dataset.photoUrl, form);
      if (answer.ok) {
        progress.photos_taken = answer.body.photos_taken;
        progress.photos_required = answer.body.photos_required;
        thumbs.querySelectorAll("li.rejected").forEach((old) => old.remove());
        await refreshKept();
        say(answer.body.message + (progress.photos_taken < progress.photos_required ? " Turn the head a little." : ""), "ok");
      } else {
        if (typeof answer.body.photos_taken === "number") progress.photos_taken = answer.body.photos_taken;
        addRefused(blob, answer.body.detail);
        say(answer.body.detail || "The photo was refused.", "error");
      }
    } catch (error) {
      say("Could not send the photo: " + error.message, "error");
    } finally {
      busy = false;
      updateCounter();
    }
  }

  // A short clip instead of single shots: the server keeps the frames that show one face in new poses.
  async function recordClip() {
    if (busy || !stream) return;
    busy = true;
    stopAuto();
    updateCounter();
    const chunks = [];
    const type = ["video/webm;codecs=vp8", "video/webm", "video/mp4"].find((t) => MediaRecorder.isTypeSupported(t));
    const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    recorder.ondataavailable = (event) => {
      if (event.data && event.data.size) chunks.push(event.data);
    };
    const stopped = new Promise((resolve) => (recorder.onstop = resolve));
    recorder.start();
    for (let left = CLIP_SECONDS; left > 0; left -= 1) {
      say("Recording… turn the head slowly left, right, up and down (" + left + " s)", "");
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    recorder.stop();
    await stopped;
    say("Checking the clip…", "");
    try {
      const form = new FormData();
      const blob = new Blob(chunks, { type: recorder.mimeType || "video/webm" });
      form.append("clip", blob, blob.type.indexOf("mp4") >= 0 ? "clip.mp4" : "clip.webm");
      const answer = await post(root.dataset.clipUrl, form);
      if (typeof answer.body.photos_taken === "number") progress.photos_taken = answer.body.photos_taken;
      await refreshKept();
      say(answer.ok ? answer.body.message : answer.body.detail || "The clip was refused.", answer.ok ? "ok" : "error");
    } catch (error) {
      say("Could not send the clip: " + error.message, "error");
    } finally {
      busy = false;
      updateCounter();
    }
  }

  function stopAuto() {
    if (autoTimer) {
      clearInterval(autoTimer);
      autoTimer = null;
      autoButton.textContent = "Auto-capture";
    }
  }

  function toggleAuto() {
    if (autoTimer) {
      stopAuto();
      return;
    }
    autoButton.textContent = "Stop auto-capture";
    autoTimer = setInterval(shoot, 1500);
    shoot();
  }

  function showResult() {
    $("capture-panel").hidden = true;
    $("result-panel").hidden = false;
    if (stream) stream.getTracks().forEach((track) => track.stop());
  }

  function renderStatus(state) {
    const share = state.photos_required ? Math.min(100, (100 * state.encoded_count) / state.photos_required) : 0;
    $("encode-bar").style.width = (state.status === "active" ? 100 : share) + "%";
    $("result-text").textContent = state.message;
    const titles = {
      queued: "Queued for encoding…",
      encoding: state.encoded_count + " of " + state.photos_required + " encoded",
      active: "Enrolment complete",
      needs_review: "Needs review",
      failed: "Enrolment failed",
    };
    $("result-title").textContent = titles[state.status] || state.status_display;
    $("result-panel").className = "result " + state.status;
    $("retake").hidden = !(state.status === "failed" || state.status === "rejected");
    $("done").hidden = !state.finished;
  }

  async function poll() {
    const answer = await api(root.dataset.statusUrl);
    if (answer.ok) {
      renderStatus(answer.body);
      if (answer.body.finished) return;
    }
    setTimeout(poll, 1000);
  }

  async function submit() {
    if (busy) return;
    busy = true;
    submitButton.disabled = true;
    stopAuto();
    const answer = await post(root.dataset.submitUrl, new FormData());
    busy = false;
    if (!answer.ok) {
      say(answer.body.detail || "The enrolment could not be submitted.", "error");
      updateCounter();
      return;
    }
    showResult();
    renderStatus(answer.body);
    if (!answer.body.finished) setTimeout(poll, 700);
  }

  shootButton.addEventListener("click", shoot);
  autoButton.addEventListener("click", toggleAuto);
  submitButton.addEventListener("click", submit);
  recordButton.addEventListener("click", recordClip);

  if (progress.status === "capturing") {
    showKept(progress.kept_photo_ids || []);
    startCamera();
  } else {
    showResult();
    renderStatus(progress);
    if (!progress.finished) poll();
  }
})();
