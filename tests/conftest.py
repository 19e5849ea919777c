"""Persona fixtures: who is at the bank, and what they may reach."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import Group

from accounts.roles import ADMINISTRATOR, AUDITOR, TELLER, roles_sync
from tests.factories import BankAccountFactory, CardFactory, CustomerFactory, KioskFactory, UserFactory
from tests.support import environment


@pytest.fixture
def faces_dir() -> Path:
    return environment.faces_dir()


@pytest.fixture
def models_dir() -> Path:
    """The real model files (ATM_MODELS_DIR): skipped with the reason when missing, a failure under CI."""
    return environment.models_dir()


@pytest.fixture
def roles(db: None) -> None:
    roles_sync()


def _staff(username: str, role: str) -> object:
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def teller(roles: None) -> object:
    return _staff("tina_teller", TELLER)


@pytest.fixture
def auditor(roles: None) -> object:
    return _staff("aldo_auditor", AUDITOR)


@pytest.fixture
def administrator(roles: None) -> object:
    return _staff("ada_admin", ADMINISTRATOR)


@pytest.fixture
def alice(db: None) -> object:
    """A customer with an account of 500.00 and an active card (PAN in `alice_pan`)."""
    return CustomerFactory(full_name="Alice Archer", phone="+447700900001")


@pytest.fixture
def alice_pan() -> str:
    from tests.factories import make_pan

    return make_pan(1)


@pytest.fixture
def alice_card(alice: object, alice_pan: str) -> object:
    account = BankAccountFactory(customer=alice, balance="500.00")
    return CardFactory(account=account, customer=alice, pan=alice_pan)


@pytest.fixture
def bob_card(db: None) -> object:
    from tests.factories import make_pan

    bob = CustomerFactory(full_name="Bob Baker", phone="+447700900002")
    return CardFactory(account=BankAccountFactory(customer=bob), customer=bob, pan=make_pan(2))


@pytest.fixture
def kiosk(db: None) -> object:
    return KioskFactory(name="Test kiosk")


@pytest.fixture
def postgres(transactional_db: None) -> None:
    """Tests that need real PostgreSQL row locks (run the suite with TEST_DATABASE_URL=postgres:///test)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        environment.unavailable("PostgreSQL row-lock test: set TEST_DATABASE_URL=postgres:///test to run it")


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Rate-limit counters live in the cache and kiosk ids repeat across tests: every test gets its own key
    prefix (never a flush: under CI the cache may be a Redis database shared with other clients)."""
    import uuid

    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"test-{uuid.uuid4().hex[:12]}"}
        for name, config in settings.CACHES.items()
    }
