"""Security-suite fixtures: the kiosk fixtures (device credential, scripted face engine, outbox) reused."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.kiosk.conftest import api, cash_in_module, driver, face_script, kiosk_token, outbox  # noqa: F401 - fixtures


@pytest.fixture
def teller_client(teller: object) -> Client:
    client = Client()
    client.force_login(teller)
    return client


@pytest.fixture
def admin_client_user(administrator: object) -> Client:
    client = Client()
    client.force_login(administrator)
    return client


@pytest.fixture
def started(driver, alice_card, alice_pan):  # noqa: F811 - the imported fixture, requested by name
    """A kiosk session started with Alice's card, waiting for her face."""
    assert driver.start(alice_pan).status_code == 201
    return driver
