from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from accounts import selectors, services
from accounts.models import Card
from accounts.pan import luhn_valid, pan_validate
from atmsite.errors import ApplicationError
from tests.factories import BankAccountFactory, make_pan

pytestmark = pytest.mark.django_db

PAN = "4539 1488 0343 6467"  # Luhn-valid test number


def _raw_card_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_card")
        return cursor.fetchall()


def test_luhn():
    assert luhn_valid("4539148803436467")
    assert not luhn_valid("4539148803436468")
    assert pan_validate(PAN) == "4539148803436467"


@pytest.mark.parametrize("bad", ["4539148803436468", "1234", "abcd efgh ijkl mnop", "", "4" * 20])
def test_invalid_card_numbers_are_refused_and_nothing_written(alice, bad):
    account = BankAccountFactory(customer=alice)
    with pytest.raises(ValidationError):
        services.card_issue(
            customer=alice, account=account, pan=bad, expires_on=timezone.localdate() + dt.timedelta(days=30)
        )
    assert Card.objects.count() == 0


def test_pan_is_never_stored_or_logged_in_clear(alice, caplog):
    caplog.set_level(logging.DEBUG)
    account = BankAccountFactory(customer=alice)
    with connection.execute_wrapper(
        lambda execute, sql, params, many, context: execute(sql, params, many, context)
    ):
        card = services.card_issue(
            customer=alice, account=account, pan=PAN, expires_on=timezone.localdate() + dt.timedelta(days=30)
        )
    assert card.masked_pan == "•••• 6467"
    digits = "4539148803436467"
    raw = repr(_raw_card_rows())
    assert digits not in raw and digits[:12] not in raw
    assert digits not in caplog.text
    from audit.models import AuditEvent

    assert digits not in repr(list(AuditEvent.objects.values()))
    assert selectors.card_get_by_pan(pan=PAN).pk == card.pk


def test_duplicate_card_number_is_refused(alice):
    account = BankAccountFactory(customer=alice)
    expires = timezone.localdate() + dt.timedelta(days=30)
    services.card_issue(customer=alice, account=account, pan=PAN, expires_on=expires)
    with pytest.raises(ValidationError) as error:
        services.card_issue(customer=alice, account=account, pan=PAN, expires_on=expires)
    assert error.value.code == "pan_duplicate"
    assert Card.objects.count() == 1


def test_unknown_card_lookup_is_a_clear_404(db):
    with pytest.raises(ApplicationError) as error:
        selectors.card_get_by_pan(pan=make_pan(777))
    assert error.value.status_code == 404


def test_block_and_unblock_are_audited(alice_card, teller):
    services.card_block(card=alice_card, reason="customer called", actor=teller)
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.BLOCKED
    services.card_unblock(card=alice_card, actor=teller)
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.ACTIVE
    from audit.models import AuditEvent

    kinds = list(AuditEvent.objects.order_by("seq").values_list("kind", "actor_username"))
    assert (AuditEvent.Kind.CARD_BLOCKED, "tina_teller") in kinds
    assert (AuditEvent.Kind.CARD_UNBLOCKED, "tina_teller") in kinds


def test_stolen_card_is_never_unblocked(alice_card):
    services.card_block(card=alice_card, reason="stolen", status=Card.Status.STOLEN)
    with pytest.raises(ValidationError):
        services.card_unblock(card=alice_card)
    alice_card.refresh_from_db()
    assert alice_card.status == Card.Status.STOLEN
