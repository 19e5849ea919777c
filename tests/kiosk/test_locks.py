"""Issue 25, item 4: kiosk rows are locked only through kiosk.locks, which writes the lock order once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import transaction

import kiosk
from kiosk import locks
from kiosk.models import CardSecurity

KIOSK_DIR = Path(kiosk.__file__).parent


def test_no_kiosk_module_but_locks_takes_a_row_lock() -> None:
    found = [
        f"{path.relative_to(KIOSK_DIR)}:{number}"
        for path in sorted(KIOSK_DIR.rglob("*.py"))
        if path.name != "locks.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "select_for_update" in line
    ]
    assert found == []


def test_the_sections_of_the_module_follow_the_order_its_docstring_gives() -> None:
    doc = locks.__doc__ or ""
    documented = re.findall(r"^\s+(\d+)\. (\S.*?)(?:\s{2,}|$)", doc, flags=re.MULTILINE)
    sections = re.findall(r"^# (\d+)\. (.+?) -+$", Path(locks.__file__).read_text(), flags=re.MULTILINE)
    assert [int(n) for n, _ in documented] == list(range(1, len(documented) + 1))
    # Every section but the audit head (audit.services takes it) has its functions here, in that order.
    assert [(int(n), name.split(" (")[0]) for n, name in sections] == [
        (int(n), name) for n, name in documented if name != "audit chain head"
    ]


@pytest.mark.django_db
def test_kiosk_lock_takes_the_kiosk_by_row_or_by_id(kiosk) -> None:
    with transaction.atomic():
        assert locks.kiosk_lock(kiosk).pk == kiosk.pk
        assert locks.kiosk_lock(kiosk.pk).name == kiosk.name


@pytest.mark.django_db
def test_card_security_lock_creates_the_counters_once(alice_card) -> None:
    first = locks.card_security_lock(card=alice_card)
    again = locks.card_security_lock(card=alice_card)
    assert first.pk == again.pk
    assert CardSecurity.objects.filter(card=alice_card).count() == 1
