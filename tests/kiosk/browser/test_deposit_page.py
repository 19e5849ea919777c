"""The deposit flow on the kiosk page in headless Chromium: the kiosk opens the deposit, the cash-in module (a
device of its own; in development the simulated acceptor, signed on the server) counts, the escrow screen,
confirm and cancel. In production the page has no acceptor: it waits for the module's signed report. The
face engine is scripted (the face path has its own browser tests with real photos)."""

from __future__ import annotations

import os
from decimal import Decimal

import numpy as np
import pytest

from accounts.models import BankAccount, Transaction
from kiosk.models import CashInBin, CashInDeposit, DepositEscrow
from kiosk.services.credentials import kiosk_credential_rotate
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory, KioskFactory, make_pan
from tests.kiosk.conftest import CashInModule
from tests.support import camera

PAN = make_pan(61)


@pytest.fixture
def noise_camera(tmp_path):
    """Frames of noise: every frame differs (no replay refusal); the scripted engine answers "match"."""
    rng = np.random.default_rng(11)
    frames = (rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(5))
    return camera.y4m_from_frames(frames, tmp_path / "noise.y4m", width=640, height=480)


def _viewport() -> dict[str, int]:
    """KIOSK_VIEWPORT=1080x1920 runs the flow on a portrait kiosk screen (default 1024x768)."""
    width, _x, height = os.environ.get("KIOSK_VIEWPORT", "1024x768").partition("x")
    return {"width": int(width), "height": int(height)}


def _screenshot(page, name: str) -> None:
    """KIOSK_SCREENSHOTS=<dir> keeps pictures of the screens for a person to look at (not asserted)."""
    folder = os.environ.get("KIOSK_SCREENSHOTS")
    if folder:
        size = page.viewport_size
        page.screenshot(path=os.path.join(folder, f"{name}-{size['width']}x{size['height']}.png"))


def _visible(name: str) -> str:
    return f'[data-screen="{name}"]:not([hidden])'


def _menu_page(live_server, browser_factory, noise_camera, lang="en"):
    """A kiosk page at the menu for a fresh customer (card typed, the scripted face matched)."""
    customer = CustomerFactory(full_name="Dora Deposit")
    account = BankAccountFactory(customer=customer, balance=Decimal("500.00"))
    card = CardFactory(account=account, customer=customer, pan=PAN)
    kiosk = KioskFactory(name="Deposit kiosk")
    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    context = browser_factory(noise_camera).new_context(viewport=_viewport())
    context.add_cookies([{"name": "kiosk_credential", "value": token, "url": live_server.url}])
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(f"{live_server.url}/kiosk/?lang={lang}")
    page.fill("#card-number", PAN)
    page.fill("#card-expiry", card.expires_on.strftime("%m/%y"))  # a typed card needs its expiry
    page.click("#card-form button[type=submit]")
    page.wait_for_selector(_visible("menu"), timeout=30_000)
    return page, account, kiosk, problems


def _notes_counted(page, notes: tuple[str, ...]) -> str:
    """Put notes in the simulated acceptor and count them; the escrow screen's total."""
    for note in notes:
        page.click(f'#acceptor-notes [data-note="{note}"]')
    page.click("#acceptor-count")
    page.wait_for_selector(_visible("escrow"), timeout=10_000)
    return page.inner_text("#escrow-total")


def _bin(kiosk) -> dict[int, int]:
    return dict(CashInBin.objects.filter(kiosk=kiosk).values_list("denomination", "count"))


def test_a_deposit_is_counted_notes_confirmed_or_returned(
    transactional_db, live_server, browser_factory, noise_camera, face_script, settings
):
    settings.DEBUG, settings.KIOSK_SIMULATED_ACCEPTOR = True, True  # development: the simulated acceptor
    page, account, kiosk, problems = _menu_page(live_server, browser_factory, noise_camera)
    page.click('[data-action="show-deposit"]')
    page.wait_for_selector(_visible("deposit"))
    assert "Simulated note acceptor — development only" in page.text_content('[data-screen="deposit"]')
    assert page.locator("#deposit-amount").count() == 0  # no typed amount anywhere
    assert page.is_disabled("#acceptor-count")
    for note in ("50", "50", "20"):
        page.click(f'#acceptor-notes [data-note="{note}"]')
    assert "2 × 50, 1 × 20" in page.inner_text("#acceptor-tray")
    _screenshot(page, "deposit-1-acceptor")
    assert _notes_counted(page, ()) == "Counted: €120.00"
    _screenshot(page, "deposit-2-escrow")
    # In escrow: nothing credited yet.
    assert BankAccount.objects.get(pk=account.pk).balance == Decimal("500.00")
    assert DepositEscrow.objects.get(session__kiosk=kiosk).notes == {"50": 2, "20": 1}

    page.click('[data-action="deposit-confirm"]')
    page.wait_for_selector(_visible("result"), timeout=10_000)
    assert "620.00" in page.inner_text("#result-body")
    _screenshot(page, "deposit-3-receipt")
    assert BankAccount.objects.get(pk=account.pk).balance == Decimal("620.00")
    entry = Transaction.objects.get(account=account)
    assert (entry.kind, entry.amount, entry.details["notes"]) == (
        "deposit",
        Decimal("120.00"),
        {"50": 2, "20": 1},
    )
    assert _bin(kiosk) == {50: 2, 20: 1}

    # A second deposit, cancelled: the notes are returned and nothing is written to the ledger or the bin.
    page.click('[data-screen="result"] [data-action="menu"]')
    page.click('[data-action="show-deposit"]')
    assert _notes_counted(page, ("10",)) == "Counted: €10.00"
    page.click('[data-action="deposit-cancel"]')
    page.wait_for_selector(_visible("result"), timeout=10_000)
    assert "Your notes have been returned." in page.inner_text("#result-body")
    assert Transaction.objects.filter(account=account).count() == 1
    assert BankAccount.objects.get(pk=account.pk).balance == Decimal("620.00")
    assert _bin(kiosk) == {50: 2, 20: 1}
    assert CashInDeposit.objects.filter(kiosk=kiosk).count() == 1  # the bin's ledger: the confirmed one
    assert not [p for p in problems if "favicon" not in p and "404" not in p], problems

    page.goto(f"{live_server.url}/kiosk/?lang=ru")
    assert "Имитация купюроприёмника — только для разработки" in page.content()


def test_production_page_waits_for_the_cash_in_modules_signed_count(
    transactional_db, live_server, browser_factory, noise_camera, face_script, settings
):
    """DEBUG off: no acceptor on the page; the module signs its report and the page shows the escrow."""
    settings.DEBUG = False
    lang = os.environ.get("KIOSK_LANG", "en")
    page, account, kiosk, problems = _menu_page(live_server, browser_factory, noise_camera, lang=lang)
    module = CashInModule(kiosk)
    page.click('[data-action="show-deposit"]')
    page.wait_for_selector(_visible("deposit"))
    assert page.locator("#acceptor-notes").count() == 0
    _screenshot(page, f"deposit-waiting-{lang}")
    assert DepositEscrow.objects.filter(session__kiosk=kiosk).exists()
    assert module.report({"100": 1, "5": 2}, "prod-dep-0001").status_code == 201
    page.wait_for_selector(_visible("escrow"), timeout=10_000)
    assert "110.00" in page.inner_text("#escrow-total")
    _screenshot(page, f"deposit-escrow-{lang}")
    page.click('[data-action="deposit-confirm"]')
    page.wait_for_selector(_visible("result"), timeout=10_000)
    _screenshot(page, f"deposit-receipt-{lang}")
    assert BankAccount.objects.get(pk=account.pk).balance == Decimal("610.00")
    assert not [p for p in problems if "favicon" not in p and "404" not in p], problems
