"""A defect class, not a case: every write endpoint either succeeds or leaves the database exactly as it was.

The defect: a request that answers 500 *and* is saved (a deposit did). Here every write endpoint of the
kiosk, accounts and biometrics APIs (found from the URL configuration, so a new one cannot be forgotten) gets
its valid request, then each field replaced by values at and past the bounds: the largest transaction, one
cent more, 1e12, 1e400, NaN, infinities, huge integers, wrong types. The answer must be a 2xx, or a 4xx after
which every row of every table is unchanged. Run on SQLite and on PostgreSQL (TEST_DATABASE_URL).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from tests.factories import make_pan
from tests.kiosk.conftest import card_expiry_of, jpeg_frame

from .helpers import assert_contents_unchanged, db_contents

pytestmark = pytest.mark.django_db

MAX_TRANSACTION = django_settings.ACCOUNT_MAX_TRANSACTION
BOUND_VALUES: dict[str, Any] = {
    "max_transaction": str(MAX_TRANSACTION),
    "max_transaction_plus_cent": str(MAX_TRANSACTION + Decimal("0.01")),
    "max_balance": str(django_settings.ACCOUNT_MAX_BALANCE),
    "999999999990": "999999999990",
    "1e12": "1e12",
    "1e400": "1e400",
    "nan": "NaN",
    "minus_infinity": "-Infinity",
    "minus_cent": "-0.01",
    "zero": 0,
    "int_2_63": 2**63,
    "int_10_30": 10**30,
    "float_1e308": 1e308,
    "null": None,
    "empty": "",
    "list": [1],
    "object": {"a": 1},
    "true": True,
}
PATH_ID_VALUES = {"zero": "0", "int_2_63": str(2**63), "int_10_30": str(10**30)}


@dataclass(frozen=True)
class Endpoint:
    """How to make a valid request to one write endpoint, and what must exist first."""

    path: str  # with {sid}, {customer}, {card}, {enrolment} placeholders
    needs: str  # kiosk | started | face_failed | otp_sent | menu | escrow | staff | enrolment
    body: dict[str, Any] = field(default_factory=dict)
    multipart: bool = False
    nested: dict[str, Any] = field(default_factory=dict)  # field -> a valid inner key to fuzz the value of
    extra_fields: tuple[str, ...] = ()  # fields the endpoint must refuse or ignore, fuzzed too
    # The valid request succeeds. Not for enrolment shots: a synthetic JPEG has no face, so they answer a
    # 4xx (their success paths are tested with real photos in tests/biometrics).
    valid_succeeds: bool = True


ENDPOINTS: dict[str, Endpoint] = {
    # An unknown number gets the same screens as a known one, so any well-formed phone starts a session.
    "kiosk-api:cardless-session-start": Endpoint(
        "/api/kiosk/sessions/cardless/", "kiosk", {"phone": "+447700900123"}
    ),
    # A PIN is taken only once a card-less face check passed (its success path: tests/kiosk/test_cardless.py);
    # here every value must be refused without a write.
    "kiosk-api:cardless-pin": Endpoint(
        "/api/kiosk/sessions/{sid}/pin/", "started", {"pin": "1234"}, valid_succeeds=False
    ),
    "kiosk-api:session-start": Endpoint(
        "/api/kiosk/sessions/", "kiosk", {"card_number": "PAN", "expiry": "CARD_EXPIRY"}
    ),
    "kiosk-api:session-frame": Endpoint(
        "/api/kiosk/sessions/{sid}/frames/", "started", {"nonce": "NONCE", "seq": 1, "frame": "JPEG"}, True
    ),
    "kiosk-api:otp-request": Endpoint("/api/kiosk/sessions/{sid}/otp/", "face_failed"),
    "kiosk-api:otp-verify": Endpoint("/api/kiosk/sessions/{sid}/otp/verify/", "otp_sent", {"code": "CODE"}),
    "kiosk-api:withdraw": Endpoint(
        "/api/kiosk/sessions/{sid}/withdrawals/", "menu", {"amount": "20", "idempotency_key": "bound-key-01"}
    ),
    # The kiosk credential cannot report notes: always 403 (the cash-in module's signed report below can).
    "kiosk-api:cash-in": Endpoint(
        "/api/kiosk/sessions/{sid}/cash-in/",
        "menu",
        {"notes": {"20": 1}, "idempotency_key": "bound-key-02"},
        nested={"notes": "20"},
        valid_succeeds=False,
    ),
    "kiosk-api:cash-in-report": Endpoint(
        "/api/kiosk/cash-in-module/reports/",
        "deposit_open",
        {
            "counter": 1,
            "timestamp": "NOW",
            "session": "SID",
            "notes": {"20": 1},
            "idempotency_key": "bound-key-03",
        },
        nested={"notes": "20"},
    ),
    "kiosk-api:deposit-open": Endpoint("/api/kiosk/sessions/{sid}/deposits/open/", "menu"),
    # Development only (DEBUG and KIOSK_SIMULATED_ACCEPTOR): signed on the server as the module's report.
    "kiosk-api:simulated-cash-in": Endpoint(
        "/api/kiosk/sessions/{sid}/simulated-cash-in/",
        "simulated",
        {"notes": {"20": 1}, "idempotency_key": "bound-key-04"},
        nested={"notes": "20"},
    ),
    "kiosk-api:deposit": Endpoint(
        "/api/kiosk/sessions/{sid}/deposits/",
        "escrow",
        {"idempotency_key": "escrow-key-01"},
        extra_fields=("amount",),
    ),
    "kiosk-api:deposit-cancel": Endpoint("/api/kiosk/sessions/{sid}/deposits/cancel/", "escrow"),
    "kiosk-api:session-end": Endpoint("/api/kiosk/sessions/{sid}/end/", "menu"),
    # "Do you need more time?": restarts the idle timer only, takes no body.
    "kiosk-api:session-keepalive": Endpoint("/api/kiosk/sessions/{sid}/keepalive/", "menu"),
    "kiosk-api:heartbeat": Endpoint("/api/kiosk/heartbeat/", "kiosk", {"error": "Camera not found"}),
    "accounts:customers": Endpoint(
        "/api/accounts/customers/",
        "staff",
        {"full_name": "Carol Cash", "phone": "+447700900077", "email": "carol@example.com"},
    ),
    "accounts:card-issue": Endpoint(
        "/api/accounts/cards/",
        "staff",
        {"customer": "CUSTOMER", "account": "ACCOUNT", "pan": "NEWPAN", "expires_on": "EXPIRY"},
    ),
    "accounts:card-block": Endpoint(
        "/api/accounts/cards/{card}/block/", "staff", {"reason": "lost", "stolen": False}
    ),
    "accounts:card-unblock": Endpoint("/api/accounts/cards/{card}/unblock/", "staff"),
    "biometrics:consent": Endpoint(
        "/api/biometrics/customers/{customer}/consent/", "staff", {"consent": True}
    ),
    "biometrics:revoke": Endpoint(
        "/api/biometrics/customers/{customer}/revoke/", "staff", {"reason": "asked"}
    ),
    "biometrics:enrolment-start": Endpoint(
        "/api/biometrics/enrolments/", "enrolment", {"customer": "CUSTOMER"}
    ),
    "biometrics:enrolment-photo": Endpoint(
        "/api/biometrics/enrolments/{enrolment}/photos/",
        "enrolment",
        {"photo": "JPEG", "stills": False},
        True,
        valid_succeeds=False,
    ),
    "biometrics:enrolment-clip": Endpoint(
        "/api/biometrics/enrolments/{enrolment}/clip/",
        "enrolment",
        {"clip": "JPEG"},
        True,
        valid_succeeds=False,
    ),
    "biometrics:enrolment-submit": Endpoint(
        "/api/biometrics/enrolments/{enrolment}/submit/", "enrolment", valid_succeeds=False
    ),
    "biometrics:enrolment-review": Endpoint(
        "/api/biometrics/enrolments/{enrolment}/review/",
        "enrolment",
        {"approve": True, "note": ""},
        valid_succeeds=False,
    ),
}

WRITE_METHODS = ("post", "put", "patch", "delete")


def _write_routes() -> set[str]:
    """namespace:name of every API route whose view accepts a write method."""
    found: set[str] = set()

    def walk(patterns: list[Any], namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and namespace in ("kiosk-api", "accounts", "biometrics"):
                view = getattr(pattern.callback, "view_class", None)
                if view is not None and any(hasattr(view, method) for method in WRITE_METHODS):
                    found.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, "")
    return found


def test_every_write_endpoint_is_covered():
    assert _write_routes() == set(ENDPOINTS)


def _cases() -> list[Any]:
    cases = []
    for name, endpoint in ENDPOINTS.items():
        cases.append(pytest.param(name, None, None, id=f"{name}-valid"))
        for field_name in [*endpoint.body, *endpoint.extra_fields]:
            for label in BOUND_VALUES:
                cases.append(pytest.param(name, field_name, label, id=f"{name}-{field_name}={label}"))
        for field_name in endpoint.nested:
            for label in BOUND_VALUES:
                cases.append(
                    pytest.param(name, f"{field_name}.", label, id=f"{name}-{field_name}.count={label}")
                )
        for placeholder in ("card", "customer", "enrolment"):
            if "{" + placeholder + "}" in endpoint.path:
                for label in PATH_ID_VALUES:
                    cases.append(
                        pytest.param(name, f"path:{placeholder}", label, id=f"{name}-{placeholder}={label}")
                    )
    return cases


@pytest.fixture
def world(request, alice_card, alice_pan, kiosk, administrator):
    """Whatever the endpoint needs, built on demand: a session at each stage, staff, an open enrolment."""
    built: dict[str, Any] = {"pan": alice_pan, "card": alice_card.pk, "customer": alice_card.customer_id}
    built["account"] = alice_card.account_id

    def prepare(needs: str) -> APIClient:
        if needs in (
            "kiosk",
            "started",
            "face_failed",
            "otp_sent",
            "menu",
            "escrow",
            "deposit_open",
            "simulated",
        ):
            driver = request.getfixturevalue("driver")
            if needs != "kiosk":
                assert driver.start(alice_pan).status_code == 201
                built["sid"], built["nonce"], built["seq"] = driver.sid, driver.session["frame_nonce"], 1
            if needs in ("face_failed", "otp_sent"):
                request.getfixturevalue("face_script").play("several_faces")
                assert driver.frame().status_code == 200 and driver.session["state"] == "face_failed"
            if needs == "otp_sent":
                outbox = request.getfixturevalue("outbox")
                assert driver.post("otp").status_code == 200
                built["code"] = re.search(r"\b(\d{6})\b", outbox[-1].body).group(1)
            if needs in ("menu", "escrow", "deposit_open", "simulated"):
                module = request.getfixturevalue("cash_in_module")
                driver.verify_face()
                assert driver.get("balance").status_code == 200
            if needs == "simulated":
                settings = request.getfixturevalue("settings")
                settings.DEBUG, settings.KIOSK_SIMULATED_ACCEPTOR = True, True
            if needs in ("escrow", "deposit_open", "simulated"):
                assert driver.post("deposits/open").status_code == 200
            if needs == "escrow":
                assert module.report({"50": 1}, "escrow-key-01").status_code == 201
            if needs == "deposit_open":
                return SigningClient(module)  # type: ignore[return-value]
            return driver.client
        client = APIClient()
        client.force_login(administrator)
        if needs == "enrolment":
            from biometrics.services import enrolment_capture
            from tests.factories import CustomerFactory

            customer = CustomerFactory()
            enrolment_capture.customer_consent_record(customer=customer, actor=administrator)
            built["enrolment"] = enrolment_capture.enrolment_start(customer=customer, actor=administrator).pk
            built["customer"] = customer.pk  # a new start supersedes the open capture
        return client

    return prepare, built


class SigningClient:
    """Posts as the cash-in module does: the JSON body signed with the module's key, so every fuzzed value
    passes the signature and reaches the validation behind it."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def post(self, url: str, body: dict[str, Any], format: str) -> Any:
        return self.module.send(json.dumps(body).encode())


def _value(raw: Any, built: dict[str, Any]) -> Any:
    substitutes: dict[str, Callable[[], Any]] = {
        "PAN": lambda: built["pan"],
        "CARD_EXPIRY": lambda: card_expiry_of(built["pan"]),
        "NONCE": lambda: built["nonce"],
        "CODE": lambda: built["code"],
        "CUSTOMER": lambda: built["customer"],
        "ACCOUNT": lambda: built["account"],
        "NEWPAN": lambda: make_pan(77),
        "EXPIRY": lambda: (dt.date.today() + dt.timedelta(days=800)).isoformat(),
        "NOW": lambda: int(time.time()),
        "SID": lambda: built["sid"],
    }
    if isinstance(raw, str) and raw in substitutes:
        return substitutes[raw]()
    return raw


def _multipart(body: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for key, value in body.items():
        if value == "JPEG":
            upload = io.BytesIO(jpeg_frame())
            upload.name = "shot.jpg"
            payload[key] = upload
        elif value is None:
            continue  # multipart has no null: the field is simply missing
        elif isinstance(value, list | dict):
            payload[key] = str(value)
        else:
            payload[key] = value
    return payload


def _assert_money_within_bounds() -> None:
    """Every stored balance and amount reads back and lies within the configured bounds."""
    from accounts.models import BankAccount, Transaction

    for balance, limit in BankAccount.objects.values_list("balance", "daily_withdrawal_limit"):
        assert Decimal(0) <= balance <= django_settings.ACCOUNT_MAX_BALANCE
        assert Decimal(0) <= limit <= django_settings.ACCOUNT_MAX_BALANCE
    for amount, after in Transaction.objects.values_list("amount", "balance_after"):
        assert Decimal(0) < amount <= django_settings.ACCOUNT_MAX_TRANSACTION
        assert Decimal(0) <= after <= django_settings.ACCOUNT_MAX_BALANCE


@pytest.mark.parametrize(("name", "field_name", "label"), _cases())
def test_write_endpoint_succeeds_or_writes_nothing(world, name, field_name, label):
    prepare, built = world
    endpoint = ENDPOINTS[name]
    client = prepare(endpoint.needs)
    body = {key: _value(value, built) for key, value in endpoint.body.items()}
    ids = {key: built.get(key, "") for key in ("sid", "card", "customer", "enrolment")}
    if field_name is not None and field_name.startswith("path:"):
        ids[field_name.removeprefix("path:")] = PATH_ID_VALUES[label]
    elif field_name is not None and field_name.endswith("."):
        inner = field_name.removesuffix(".")
        body[inner] = {endpoint.nested[inner]: BOUND_VALUES[label]}
    elif field_name is not None:
        body[field_name] = BOUND_VALUES[label]
    url = endpoint.path.format(**ids)
    before = db_contents()
    try:
        if endpoint.multipart:
            response = client.post(url, _multipart(body), format="multipart")
        else:
            response = client.post(url, body, format="json")
    except Exception as error:  # the test client re-raises what would have been a 500
        changed = db_contents() != before
        pytest.fail(f"{name} with {field_name}={label}: server error {error!r}; data written: {changed}")
    assert response.status_code < 500, (response.status_code, response.content[:300])
    if field_name is None and endpoint.valid_succeeds:
        # 202: a four-eyes proposal was recorded (card issue, biometric revoke); it is written, and valid.
        assert response.status_code in (200, 201, 202), response.content[:300]
    if response.status_code >= 300:
        assert 400 <= response.status_code < 500
        body_json = response.json()
        assert body_json["code"] and body_json["detail"], body_json
        assert_contents_unchanged(before)
    _assert_money_within_bounds()
    if field_name == "amount" and name == "kiosk-api:deposit":
        assert response.status_code == 400  # never a typed deposit amount, whatever the value
