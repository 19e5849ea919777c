"""The demo bank that `manage.py seed_demo` creates. Development only: these card numbers are public."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .pan import luhn_check_digit


def demo_pan(serial: int) -> str:
    partial = f"400000{serial:09d}"
    return partial + luhn_check_digit(partial)


@dataclass(frozen=True)
class DemoCustomer:
    full_name: str
    phone: str
    account_number: str
    balance: Decimal
    pan: str
    face_identity: str  # folder under ATM_FACES_DIR/people used to enrol the demo face, if present


DEMO_CUSTOMERS = (
    DemoCustomer(
        "Barack Obama",
        "+12025550101",
        "DE00 1000 0000 0000 0001",
        Decimal("2500.00"),
        demo_pan(1),
        "barack_obama",
    ),
    DemoCustomer(
        "Joe Biden", "+12025550102", "DE00 1000 0000 0000 0002", Decimal("1800.00"), demo_pan(2), "joe_biden"
    ),
    DemoCustomer(
        "Kit Harington",
        "+447700900103",
        "DE00 1000 0000 0000 0003",
        Decimal("950.00"),
        demo_pan(3),
        "kit_harington",
    ),
    DemoCustomer(
        "Rose Leslie",
        "+447700900104",
        "DE00 1000 0000 0000 0004",
        Decimal("1200.00"),
        demo_pan(4),
        "rose_leslie",
    ),
    DemoCustomer(
        "Alex Lacamoire",
        "+12125550105",
        "DE00 1000 0000 0000 0005",
        Decimal("640.00"),
        demo_pan(5),
        "alex_lacamoire",
    ),
)
# A supervisor too, so a newcomer can propose as "teller" and approve as "supervisor" at once.
DEMO_STAFF = (
    ("admin", "Administrator"),
    ("teller", "Teller"),
    ("supervisor", "Supervisor"),
    ("auditor", "Auditor"),
)
DEMO_KIOSK = {"name": "Demo kiosk — Main Street", "location": "Branch 1, lobby", "currency": "EUR"}
DEMO_CASSETTES = {50: 200, 20: 300, 10: 300}
