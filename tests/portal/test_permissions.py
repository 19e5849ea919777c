"""Every portal URL, requested by Bob with Alice's ids, answers 404 (or 403/405) and writes nothing; the
pages without ids show Bob only his own data."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, reverse

from kiosk.vocabulary import FailureReason
from portal.urls import urlpatterns

from .conftest import sign_in
from .test_controls import kiosk_session

pytestmark = pytest.mark.django_db

WATCHED_APPS = ("accounts", "kiosk", "audit", "biometrics", "portal")


def db_contents() -> dict[str, set[tuple[str, ...]]]:
    contents = {}
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models():
            columns = [field.attname for field in model._meta.concrete_fields]
            rows = model._default_manager.values_list(*columns)
            contents[model._meta.label] = {tuple(str(value) for value in row) for row in rows}
    return contents


@pytest.fixture
def alice_ids(alice_portal: dict[str, Any]) -> dict[str, Any]:
    session = kiosk_session(card=alice_portal["card"], outcome=FailureReason.NO_MATCH)
    return {
        "account_id": alice_portal["account"].pk,
        "card_id": alice_portal["card"].pk,
        "public_id": session.public_id,
    }


@pytest.fixture
def bob_client(bob_portal: dict[str, Any]) -> Client:
    client = Client()
    assert sign_in(client, bob_portal["customer"].phone).status_code == 302
    return client


# URL name -> the requests Bob makes with Alice's ids.
FOREIGN_ID_REQUESTS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "account": [("get", {}), ("get", {"amount_min": "1"})],
    "not_me": [("get", {}), ("post", {"note": "not me"})],
    "card_freeze": [("post", {})],
    "card_unfreeze": [
        ("get", {}),
        ("post", {"action": "send"}),
        ("post", {"action": "complete"}),
        ("post", {"code": "123456"}),
    ],
}
# Pages without an id: they can only ever show the signed-in customer's own data.
OWN_PAGES = ["home", "face", "settings", "data_json", "data_html", "totp_setup"]
# Not about anyone's data (sign-in, activation, sign-out, own-only writes).
NO_DATA = {
    "activate",
    "sign_in",
    "sign_in_code",
    "sign_in_resend",
    "sign_out",
    "face_request",
    "cardless_off",
}


def test_every_portal_url_is_covered_by_this_test():
    names = {pattern.name for pattern in urlpatterns if isinstance(pattern, URLPattern)}
    assert names == set(FOREIGN_ID_REQUESTS) | set(OWN_PAGES) | NO_DATA


def test_another_customers_ids_get_404_and_nothing_is_written(alice_ids, bob_client):
    before = db_contents()
    for name, requests in FOREIGN_ID_REQUESTS.items():
        pattern = next(p for p in urlpatterns if isinstance(p, URLPattern) and p.name == name)
        kwargs = {key: alice_ids[key] for key in pattern.pattern.converters}
        path = "/my/" + str(pattern.pattern).replace("<int:", "<").replace("<uuid:", "<")
        for key, value in kwargs.items():
            path = path.replace(f"<{key}>", str(value))
        for method, body in requests:
            response = getattr(bob_client, method)(path, body)
            assert response.status_code in (403, 404), (name, method, body, response.status_code)
    assert db_contents() == before


def test_pages_without_ids_show_only_the_signed_in_customer(alice_portal, alice_ids, bob_client):
    alice = alice_portal
    secrets_of_alice = [
        alice["customer"].full_name,
        alice["account"].number,
        alice["card"].masked_pan,
        str(alice_ids["public_id"]),
    ]
    for name in OWN_PAGES:
        response = bob_client.get(reverse(f"portal:{name}"))
        assert response.status_code == 200, name
        body = response.content.decode()
        assert not [text for text in secrets_of_alice if text in body], name


def test_signed_out_visitors_reach_no_customer_page(alice_ids):
    client = Client()
    for path in [
        "/my/",
        "/my/face/",
        "/my/settings/",
        "/my/data.json",
        f"/my/accounts/{alice_ids['account_id']}/",
    ]:
        response = client.get(path)
        assert response.status_code == 302 and response.url == "/my/sign-in/", path
