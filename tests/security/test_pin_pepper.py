"""Issue 20, item 6: card-less PINs were PBKDF2 without a key; both 4-digit PINs came back from a database
copy in minutes. The verifier is now a slow hash of the PIN's HMAC under PIN_PEPPER, a key outside the
database."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.hashers import check_password, make_password
from django.core.management import call_command

from audit.models import AuditEvent
from kiosk.models import CardlessAccess
from kiosk.pin_verifiers import pepper_id, pepper_of, pin_verifier_check
from kiosk.services import cardless
from tests.factories import BankAccountFactory, CustomerFactory
from tests.support.faces import active_templates

pytestmark = pytest.mark.django_db

PIN = "4821"


def _access_with_pin(pin: str = PIN) -> CardlessAccess:
    customer = CustomerFactory(phone="+447700900001")
    active_templates(customer, 2)
    account = BankAccountFactory(customer=customer)
    access = cardless.cardless_opt_in(customer=customer, account=account, consent=True, actor=None)
    return cardless.cardless_pin_set(access=access, pin=pin, pin_repeat=pin, actor=None)


def test_a_database_copy_alone_cannot_brute_force_a_4_digit_pin() -> None:
    stored = _access_with_pin().pin_hash
    # All the database gives: the stored string, the slow hash's salt and parameters in it.
    inner = stored.split("$", 2)[2] if stored.startswith("pepper1$") else stored
    found = [f"{n:04d}" for n in range(10_000) if check_password(f"{n:04d}", inner)]
    assert found == []  # every 4-digit PIN tried against the stored parameters: none matches
    assert pin_verifier_check(PIN, stored).ok  # with the pepper, the right PIN verifies


def test_a_verifier_under_a_dropped_pepper_verifies_nothing(settings) -> None:
    stored = _access_with_pin().pin_hash
    settings.PIN_PEPPER = ["another-pepper-entirely"]
    assert not pin_verifier_check(PIN, stored).ok


def test_verifiers_move_to_the_newest_pepper_at_the_next_right_pin(settings) -> None:
    from kiosk.services.cardless_pin import _pin_matches

    old = list(settings.PIN_PEPPER)
    access = _access_with_pin()
    access.pin_hash = make_password(PIN)  # an unkeyed verifier from before PIN_PEPPER
    access.save()
    assert not _pin_matches(access, "9999") and pepper_of(access.pin_hash) == ""
    assert _pin_matches(access, PIN)
    access.refresh_from_db()
    assert pepper_of(access.pin_hash) == pepper_id(old[0])
    settings.PIN_PEPPER = ["the-new-pepper", *old]  # rotation: a new pepper in front
    assert _pin_matches(access, PIN)
    access.refresh_from_db()
    assert pepper_of(access.pin_hash) == pepper_id("the-new-pepper")
    settings.PIN_PEPPER = ["the-new-pepper"]  # the old one dropped: nothing lost
    assert _pin_matches(access, PIN)


def test_pin_pepper_rotate_reports_and_retires_verifiers_under_an_old_pepper(settings) -> None:
    access = _access_with_pin()
    settings.PIN_PEPPER = ["the-new-pepper", *settings.PIN_PEPPER]
    out = io.StringIO()
    call_command("pin_pepper_rotate", stdout=out)
    assert "newest: 0" in out.getvalue() and "older: 1" in out.getvalue()
    call_command("pin_pepper_rotate", "--retire", stdout=out)
    access.refresh_from_db()
    assert access.status == CardlessAccess.Status.DISABLED and access.pin_reset_required
    assert access.pin_hash == ""
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PIN_PEPPER_ROTATED).exists()
