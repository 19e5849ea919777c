"""Every kiosk screen at five display sizes, in English and Russian, in headless Chromium.

One session per language is driven through every screen (scripted face engine, a camera of changing noise);
at each screen the window is resized through the five viewports and the layout is checked: the camera preview
keeps the camera's 4:3, every control is inside the viewport, no element overlaps another, and the face box is
drawn where the face is in the preview. A screenshot of each screen at each size is kept in
test-artifacts/kiosk-screens/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from accounts.models import BankAccount
from kiosk.models import KioskSession
from kiosk.services import face
from kiosk.services.credentials import kiosk_credential_rotate
from notifications.senders import TestSender
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory, KioskFactory, make_pan
from tests.kiosk.conftest import CashInModule
from tests.support import camera

PAN = make_pan(71)
VIEWPORTS = [(1024, 768), (1280, 1024), (1366, 768), (1920, 1080), (1080, 1920)]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "kiosk-screens"
# Where the scripted engine puts the face, in the 640×480 frame the page sends.
FACE_BOX = {"top": 120, "right": 400, "bottom": 330, "left": 250}
TEXT = {
    "en": {"bystander": "only the card holder", "funds": "Insufficient funds", "withdrawal": "Withdrawal"},
    "ru": {"bystander": "только владелец карты", "funds": "Недостаточно средств", "withdrawal": "Выдача"},
}

# Layout problems on the visible screen, as text (empty: the screen is fine).
LAYOUT_PROBLEMS_JS = """
() => {
  const problems = [];
  const vw = window.innerWidth, vh = window.innerHeight;
  const shown = (el) => {
    if (el.closest('[hidden]')) return false;
    const r = el.getBoundingClientRect(), style = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.dataset.action ? '[' + el.dataset.action + ']' : '') +
    ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
  const px = Math.round;
  const box = (r) => `${px(r.left)},${px(r.top)} ${px(r.width)}×${px(r.height)}`;
  for (const el of document.querySelectorAll('button, input, a, select')) {
    if (!shown(el)) continue;
    const r = el.getBoundingClientRect();
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) {
      problems.push(`outside the ${vw}×${vh} viewport: ${name(el)} at ${box(r)}`);
    }
    // Inside the viewport but cut off by its screen (reachable only by scrolling) counts as outside too.
    const screen = el.closest('.screen');
    if (screen) {
      const s = screen.getBoundingClientRect();
      if (r.top < s.top - 0.5 || r.bottom > s.bottom + 0.5 ||
          r.left < s.left - 0.5 || r.right > s.right + 0.5) {
        problems.push(`cut off by its screen (scrolling needed): ${name(el)} at ${box(r)}`);
      }
    }
  }
  const items = [...document.querySelectorAll(
    '.topbar > *, #error, [data-screen]:not([hidden]) :is(h1, p, button, input, label, ' +
    '.camera, .progress, .receipt__row, .escrow__total)'
  )].filter(shown);
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i], b = items[j];
      if (a.contains(b) || b.contains(a)) continue;
      const p = a.getBoundingClientRect(), q = b.getBoundingClientRect();
      const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
      const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
      if (w > 1 && h > 1) problems.push(`overlap: ${name(a)} at ${box(p)} and ${name(b)} at ${box(q)}`);
    }
  }
  // Receipt and statement lines stay on one line each (a wrapped amount reads as two figures).
  for (const row of document.querySelectorAll('[data-screen]:not([hidden]) .receipt__row')) {
    for (const part of row.children) {
      if (!shown(part)) continue;
      const range = document.createRange(); range.selectNodeContents(part);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (tops.size > 1) problems.push(`wraps over ${tops.size} lines: ${name(part)}`);
    }
  }
  return problems;
}
"""

# Portrait (issue 23): where the shown error sits against the form it concerns, and Cancel against the input.
PORTRAIT_JS = """
() => {
  const screen = document.querySelector('[data-screen]:not([hidden])');
  const error = document.getElementById('error');
  const form = screen.querySelector('form');
  const input = form && form.querySelector('input');
  const cancel = screen.querySelector('[data-action="cancel"]');
  const box = (el) => el && !el.hidden ? el.getBoundingClientRect().toJSON() : null;
  return {error: box(error), form: box(form), input: box(input), cancel: box(cancel)};
}
"""

PREVIEW_JS = """
() => {
  const camera = document.querySelector('.camera').getBoundingClientRect();
  const video = document.getElementById('video').getBoundingClientRect();
  const overlay = document.getElementById('overlay');
  return {camera: [camera.width, camera.height], video: [video.width, video.height],
          drawnFor: overlay.dataset.drawnFor || '', boxes: JSON.parse(overlay.dataset.boxes || '[]')};
}
"""


@pytest.fixture(scope="module")
def screens_browser(chromium_launcher, tmp_path_factory):
    """One browser for the module; its camera plays changing noise. The loop (31 frames at 15 fps) is longer
    than any gap between two frames the page sends, so no frame repeats the previous one (a replay)."""
    rng = np.random.default_rng(5)
    frames = (rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(31))
    path = camera.y4m_from_frames(
        frames, tmp_path_factory.mktemp("screens") / "noise.y4m", width=640, height=480
    )
    return chromium_launcher(path)


@pytest.fixture
def centred_face(face_script, monkeypatch):
    """The scripted engine reports one face in the middle of the frame."""
    scripted = face_script.verify

    def verify(*, customer_id: int, image: Any) -> Any:
        verdict = scripted(customer_id=customer_id, image=image)
        return replace(verdict, boxes=[dict(FACE_BOX) for _ in verdict.boxes])

    monkeypatch.setattr(face, "frame_verify", verify)
    return face_script


class Screens:
    """The page, its problems (console errors, 5xx) and the per-screen layout check at every viewport."""

    def __init__(self, page: Any, lang: str) -> None:
        self.page = page
        self.lang = lang
        self.console_errors: list[str] = []
        self.server_errors: list[str] = []
        self.refusals: list[str] = []
        self.checked: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.on("response", self._response)
        (ARTIFACTS / lang).mkdir(parents=True, exist_ok=True)

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = (message.location or {}).get("url", "")
        # A refusal the test asked for (a wrong code, too large an amount) is logged by Chromium as a failed
        # resource load; it is checked against the responses in `refusals`, nothing else is allowed.
        if "Failed to load resource" in message.text and "/api/kiosk/" in url and " 4" in message.text:
            return
        self.console_errors.append(f"{message.text} ({url})")

    def _response(self, response: Any) -> None:
        path = response.url.split("/api/kiosk/")[-1]
        if response.status >= 500:
            try:
                body = response.text()[:200]
            except Exception:  # the page may have navigated away; the status says enough
                body = ""
            self.server_errors.append(f"{response.status} {response.url} {body}")
        elif response.status >= 400:
            self.refusals.append(f"{response.status} {re.sub(r'sessions/[^/]+/', '', path)}")

    def visible(self, name: str, timeout: int = 15_000) -> None:
        self.page.wait_for_selector(f'[data-screen="{name}"]:not([hidden])', timeout=timeout)

    def check(self, label: str, *, preview: bool = False) -> None:
        """The visible screen at every viewport: layout problems, preview geometry, a screenshot."""
        for width, height in VIEWPORTS:
            self.page.set_viewport_size({"width": width, "height": height})
            if preview:
                self._wait_for_redraw()
            else:
                self.page.wait_for_timeout(120)  # layout settles (no transitions on sizes)
            self.page.screenshot(path=str(ARTIFACTS / self.lang / f"{label}-{width}x{height}.png"))
            problems = self.page.evaluate(LAYOUT_PROBLEMS_JS)
            assert problems == [], f"{label} at {width}×{height} ({self.lang}): {problems}"
            if preview:
                self._check_preview(label, width, height)
            if height > width:
                self._check_portrait(label)
        self.checked.append(label)

    def _check_portrait(self, label: str) -> None:
        """Issue 23: an error just under the form it concerns (not 500-900 px below it), Cancel under the
        input the customer types into."""
        where = f"{label} at portrait ({self.lang})"
        found = self.page.evaluate(PORTRAIT_JS)
        if found["error"] and found["form"]:
            gap = found["error"]["top"] - found["form"]["bottom"]
            assert 0 <= gap <= 150, f"{where}: error {gap:.0f} px below its form"
            assert found["error"]["height"] <= 200, f"{where}: error box {found['error']['height']} px tall"
        if found["cancel"] and found["input"]:
            assert found["cancel"]["top"] >= found["input"]["bottom"], f"{where}: Cancel above the input"

    def _wait_for_redraw(self) -> None:
        """The face box is redrawn on the next frame answer for the preview's new size."""
        self.page.wait_for_function(
            """() => {
              const r = document.querySelector('.camera').getBoundingClientRect();
              const size = `${Math.round(r.width)}x${Math.round(r.height)}`;
              return document.getElementById('overlay').dataset.drawnFor === size;
            }""",
            timeout=10_000,
        )

    def _check_preview(self, label: str, width: int, height: int) -> None:
        preview = self.page.evaluate(PREVIEW_JS)
        camera_w, camera_h = preview["camera"]
        where = f"{label} at {width}×{height} ({self.lang})"
        assert abs((camera_w / camera_h) / (4 / 3) - 1) < 0.05, f"{where}: preview {camera_w}×{camera_h}"
        assert preview["video"] == preview["camera"], where
        assert camera_h >= 240, f"{where}: preview only {camera_h} px tall"
        # The box is drawn where the face is in the mirrored preview: frame pixels scaled by the same factor
        # on both axes, x flipped.
        scale = camera_w / 640
        expected = [
            camera_w - FACE_BOX["right"] * scale,
            FACE_BOX["top"] * camera_h / 480,
            (FACE_BOX["right"] - FACE_BOX["left"]) * scale,
            (FACE_BOX["bottom"] - FACE_BOX["top"]) * camera_h / 480,
        ]
        assert len(preview["boxes"]) == 1, where
        assert preview["boxes"][0] == pytest.approx(expected, abs=2), where


def _open_kiosk(live_server, browser, kiosk, lang: str) -> Screens:
    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    context = browser.new_context(viewport={"width": 1280, "height": 1024})
    context.add_cookies([{"name": "kiosk_credential", "value": token, "url": live_server.url}])
    screens = Screens(context.new_page(), lang)
    screens.page.goto(f"{live_server.url}/kiosk/?lang={lang}")
    return screens


def _present_card(screens: Screens, card) -> None:
    screens.page.fill("#card-number", PAN)
    screens.page.fill("#card-expiry", card.expires_on.strftime("%m/%y"))
    screens.page.click("#card-form button[type=submit]")


def _instructions(page) -> list[str]:
    """The instructions the face screen shows at this moment (challenge and status line)."""
    return page.evaluate(
        """() => ['face-challenge', 'face-message'].map((id) => document.getElementById(id))
             .filter((el) => !el.hidden && el.textContent.trim()).map((el) => el.textContent.trim())"""
    )


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_kiosk_screen_fits_every_display(
    transactional_db, live_server, screens_browser, centred_face, settings, lang
):
    settings.LIVENESS_ENABLED = False
    settings.LIVENESS_TIME_LIMIT_S = 600.0  # the challenge stays on screen while the sizes are checked
    settings.KIOSK_FACE_TIMEOUT_S = 300
    settings.KIOSK_IDLE_TIMEOUT_S = 600
    settings.KIOSK_SESSION_MAX_S = 1200
    settings.KIOSK_SEVERAL_FACES_GRACE_S = 600.0
    customer = CustomerFactory(full_name="Вера Screens" if lang == "ru" else "Vera Screens")
    account = BankAccountFactory(customer=customer, balance=Decimal("500.00"))
    card = CardFactory(account=account, customer=customer, pan=PAN)
    kiosk = KioskFactory(name="Screens kiosk")
    screens = _open_kiosk(live_server, screens_browser, kiosk, lang)

    screens.visible("card")
    screens.check("01-card")
    _face_check_screens(screens, centred_face, card=card, kiosk=kiosk)
    _challenge_and_code_screens(screens, centred_face, settings, card=card)
    _language_switch_keeps_the_session(screens, kiosk=kiosk)
    _money_screens(screens, account=account, kiosk=kiosk)

    assert screens.server_errors == []
    assert screens.console_errors == []
    # The refusals asked for (a wrong code, too large an amount), and a frame that was in flight when the
    # customer cancelled (409 session ended); nothing else.
    refusals = set(screens.refusals)
    assert (
        {"400 otp/verify/", "409 withdrawals/"}
        <= refusals
        <= {
            "400 otp/verify/",
            "409 withdrawals/",
            "409 frames/",
        }
    ), screens.refusals


def _face_check_screens(screens: Screens, centred_face, *, card, kiosk) -> None:
    """Face check without a challenge: a face that does not (yet) match, the preview at every size, then a
    bystander (a warning, and the check goes on) and the customer's cancel."""
    page, text = screens.page, TEXT[screens.lang]
    centred_face.play("no_match")
    _present_card(screens, card)
    screens.visible("face")
    screens.check("02-face", preview=True)
    centred_face.play("several_faces")
    page.wait_for_function(
        "(text) => document.getElementById('face-message').textContent.toLowerCase().includes(text)",
        arg=text["bystander"],
        timeout=10_000,
    )
    screens.check("03-face-bystander")
    page.click('[data-screen="face"] [data-action="cancel"]')
    screens.visible("message")
    # Read after the face loop stopped (SQLite in tests: no reads racing the server's frame writes).
    first = KioskSession.objects.get(kiosk=kiosk)
    assert (first.end_reason, first.face_failure_reason) == ("customer", "")  # warned, never failed
    screens.check("04-ended")


def _challenge_and_code_screens(screens: Screens, centred_face, settings, *, card) -> None:
    """Face check with the liveness challenge (one instruction at a time); it fails (a second face, no grace
    now): the code offer, the code screen, a wrong code, the right one, the menu."""
    page = screens.page
    settings.LIVENESS_ENABLED = True
    centred_face.play("no_match")
    page.click('[data-screen="message"] [data-action="restart"]')
    screens.visible("card")
    _present_card(screens, card)
    page.wait_for_selector("#face-challenge:not([hidden])", timeout=15_000)
    assert len(_instructions(page)) == 1, _instructions(page)
    screens.check("05-face-challenge", preview=True)
    assert len(_instructions(page)) == 1, _instructions(page)

    settings.KIOSK_SEVERAL_FACES_GRACE_S = 0.0
    centred_face.play("several_faces")
    screens.visible("otp-offer")
    settings.LIVENESS_ENABLED = False
    screens.check("06-face-failed")
    TestSender.outbox.clear()
    page.click('[data-screen="otp-offer"] [data-action="otp-request"]')
    screens.visible("otp")
    screens.check("07-code")
    page.fill("#otp-code", "000000" if "000000" not in TestSender.outbox[0].body else "111111")
    page.click("#otp-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])", timeout=10_000)
    # The message has its own place: Send a new code, Cancel and the keypad stay visible and usable.
    screens.check("08-code-wrong")
    code = re.search(r"\b(\d{6})\b", TestSender.outbox[0].body).group(1)
    page.fill("#otp-code", code)
    page.click("#otp-form button[type=submit]")
    screens.visible("menu")
    screens.check("09-menu")


def _language_switch_keeps_the_session(screens: Screens, *, kiosk) -> None:
    """Another language mid-session: the same verified session, the same screen; then back."""
    page, lang = screens.page, screens.lang
    other = "ru" if lang == "en" else "en"
    page.click(f'.topbar a[lang="{other}"]')
    page.wait_for_url(f"**/kiosk/?lang={other}")
    screens.visible("menu")
    assert KioskSession.objects.filter(kiosk=kiosk).latest("created_at").state in ("verified", "in_menu")
    page.click(f'.topbar a[lang="{lang}"]')
    page.wait_for_url(f"**/kiosk/?lang={lang}")
    screens.visible("menu")


def _money_screens(screens: Screens, *, account, kiosk) -> None:
    """Withdrawal (refused, then paid), deposit, balance, statement, goodbye."""
    page, text = screens.page, TEXT[screens.lang]
    page.click('[data-action="show-withdraw"]')
    screens.visible("withdraw")
    screens.check("10-withdraw")
    page.fill("#withdraw-amount", "2500")
    page.click("#withdraw-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])", timeout=10_000)
    assert text["funds"] in page.inner_text("#error")
    screens.check("11-withdraw-refused")
    page.click("#presets button >> nth=1")  # 50
    screens.visible("result")
    screens.check("12-receipt-withdrawal")
    assert BankAccount.objects.get(pk=account.pk).balance == Decimal("450.00")

    page.click('[data-screen="result"] [data-action="menu"]')
    module = CashInModule(kiosk)  # the kiosk's cash-in module: its signed count reaches the waiting page
    page.click('[data-action="show-deposit"]')
    screens.visible("deposit")
    screens.check("13-deposit-waiting")
    assert module.report({"50": 1, "20": 1}, "screens-dep-01").status_code == 201
    screens.visible("escrow")
    screens.check("14-deposit-escrow")
    page.click('[data-action="deposit-confirm"]')
    screens.visible("result")
    screens.check("15-receipt-deposit")

    page.click('[data-screen="result"] [data-action="menu"]')
    page.click('[data-action="balance"]')
    screens.visible("result")
    # Money in the page's language (issue 23): 520,00 € in Russian, €520.00 in English.
    assert ("520,00" if screens.lang == "ru" else "520.00") in page.inner_text("#result-body")
    screens.check("16-balance")
    page.click('[data-screen="result"] [data-action="menu"]')
    page.click('[data-action="statement"]')
    screens.visible("result")
    assert text["withdrawal"] in page.inner_text("#result-body")
    screens.check("17-statement")

    page.click('[data-screen="result"] [data-action="end"]')
    screens.visible("message")
    screens.check("18-goodbye")


def test_a_still_image_camera_with_liveness_on_fails_at_once_with_a_snapshot(
    transactional_db, live_server, chromium_launcher, camera_file, face_script, settings, tmp_path
):
    """A virtual camera playing one picture sends identical frames: a liveness failure within a few frames."""
    from audit.models import AuditEvent, AuditSnapshot

    settings.LIVENESS_ENABLED = True
    settings.KIOSK_FACE_TIMEOUT_S = 60
    settings.KIOSK_REPLAYED_FRAMES_LIMIT = 3
    face_script.play("no_face")
    still = np.full((480, 640, 3), 90, dtype=np.uint8)
    browser = chromium_launcher(
        camera.y4m_from_frames([still], tmp_path / "still.y4m", width=640, height=480)
    )
    customer = CustomerFactory(full_name="Stella Still")
    account = BankAccountFactory(customer=customer, balance=Decimal("100.00"))
    card = CardFactory(account=account, customer=customer, pan=PAN)
    kiosk = KioskFactory(name="Still kiosk")
    screens = _open_kiosk(live_server, browser, kiosk, "en")
    try:
        _present_card(screens, card)
        screens.visible("otp-offer", timeout=10_000)
        assert "could not confirm a live person" in screens.page.inner_text("#failure-message")
        session = KioskSession.objects.get(kiosk=kiosk)
        assert (session.state, session.face_failure_reason) == ("face_failed", "liveness")
        assert session.frames_seen == 1
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.LIVENESS_FAILED)
        assert event.data["reason"] == "replayed_frames"
        assert AuditSnapshot.objects.filter(event__kiosk_id=kiosk.pk).count() == 1
        assert screens.server_errors == []
    finally:
        browser.close()
