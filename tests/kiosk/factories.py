"""KioskSession factories: a session already past the face check, for tests of what comes after it."""

from __future__ import annotations

import uuid

import factory
from django.utils import timezone

from kiosk.models import KioskSession
from tests.factories import BankAccountFactory, CardFactory, KioskFactory


class KioskSessionFactory(factory.django.DjangoModelFactory):
    """A session verified by face, in the menu: a card session (pass `card=` for the card whose account it
    uses), or with `cardless=True` a card-less one on `account=` (its customer is the session's customer)."""

    class Meta:
        model = KioskSession

    class Params:
        cardless = factory.Trait(
            card=None,
            mode=KioskSession.Mode.CARDLESS,
            account=factory.SubFactory(BankAccountFactory),
            customer=factory.SelfAttribute("account.customer"),
        )

    public_id = factory.LazyFunction(uuid.uuid4)
    kiosk = factory.SubFactory(KioskFactory)
    card = factory.SubFactory(CardFactory)
    state = KioskSession.State.IN_MENU
    created_at = factory.LazyFunction(timezone.now)
    last_activity_at = factory.SelfAttribute("created_at")
    verified_at = factory.SelfAttribute("created_at")
    verified_by = KioskSession.VerifiedBy.FACE
    frame_nonce = "n"
