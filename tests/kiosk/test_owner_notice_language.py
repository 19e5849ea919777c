"""Notices to an owner that a kiosk sends (wrong codes paused the code path, failed card-less face checks
paused a number) are written in the owner's language, not in the language of whoever stood at the kiosk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone, translation

from kiosk.models import KioskSession
from kiosk.services.cardless import _face_paused_notice
from kiosk.services.code_path import code_path_cooldown_notice_send

from .factories import KioskSessionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("owner_language", "expected"), [("ru", "приостановлены"), ("en", "are paused")])
def test_wrong_code_pause_notice_is_in_the_owners_language(outbox, owner_language, expected):
    session = KioskSessionFactory(state=KioskSession.State.OTP_SENT)
    owner = session.card.customer
    owner.preferred_language = owner_language
    owner.save(update_fields=["preferred_language"])
    kiosk_language = "en" if owner_language == "ru" else "ru"
    with translation.override(kiosk_language):
        code_path_cooldown_notice_send(session, until=timezone.now() + dt.timedelta(minutes=15))
    [message] = outbox
    assert message.phone == owner.phone and expected in message.body, message.body


def test_cardless_face_pause_notice_is_in_the_owners_language(outbox):
    session = KioskSessionFactory(cardless=True, state=KioskSession.State.FACE_FAILED)
    owner = session.customer
    owner.preferred_language = "ru"
    owner.save(update_fields=["preferred_language"])
    session.cardless_candidates = [owner.pk]
    with translation.override("en"):
        _face_paused_notice(session, minutes=15)
    [message] = outbox
    assert message.phone == owner.phone and "приостановлено" in message.body, message.body
