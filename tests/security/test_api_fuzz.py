"""Every JSON API operation driven from the OpenAPI schema with schemathesis: no input it can generate (valid
or deliberately invalid) makes the server answer 5xx. As a staff user (session cookie + CSRF) and as a kiosk
(`Authorization: Kiosk <token>`), against random session ids and against a real verified session.

Bounded: a few examples per operation and mode, so the whole file runs in well under a minute."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.services.credentials import kiosk_credential_rotate
from tests.factories import BankAccountFactory, CardFactory, KioskFactory
from tests.kiosk.factories import KioskSessionFactory

schemathesis = pytest.importorskip("schemathesis")
GenerationMode = pytest.importorskip("schemathesis.generation").GenerationMode

pytestmark = pytest.mark.django_db(transaction=False)

EXAMPLES_PER_MODE = 12


@dataclass
class FuzzLog:
    requests: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)  # operations that answered 2xx at least once


def _staff_credentials() -> tuple[dict[str, str], dict[str, str]]:
    user = get_user_model().objects.create_superuser("fuzz_admin", "fuzz@example.com", "fuzz-password-1")
    client = Client()
    client.force_login(user)
    csrf = _get_new_csrf_string()
    cookies = {django_settings.SESSION_COOKIE_NAME: client.cookies[django_settings.SESSION_COOKIE_NAME].value}
    cookies[django_settings.CSRF_COOKIE_NAME] = csrf
    return {"X-CSRFToken": csrf, "Referer": "http://localhost/"}, cookies


def _kiosk_session() -> tuple[str, str]:
    """A kiosk credential and a verified session of its own (so menu operations get past the 404)."""
    kiosk = KioskFactory(name="Fuzz kiosk")
    account = BankAccountFactory(balance="100000.00", daily_withdrawal_limit="100000.00")
    card = CardFactory(account=account, customer=account.customer)
    session = KioskSessionFactory(kiosk=kiosk, card=card, frame_nonce="fuzz-nonce")
    _credential, token = kiosk_credential_rotate(kiosk=kiosk, actor=None)
    return token, str(session.public_id)


def _run(operation, log: FuzzLog, *, mode, headers, cookies, path_parameters=None) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
    label = f"{operation.method.upper()} {operation.path}"

    @given(case=strategy, salt=st.integers(0, 1_000_000))
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case, salt) -> None:
        response = case.call(headers=headers, cookies=cookies)
        log.requests += 1
        log.by_operation[label] = log.by_operation.get(label, 0) + 1
        log.statuses[response.status_code] = log.statuses.get(response.status_code, 0) + 1
        if response.status_code < 300:
            log.accepted.add(label)
        if response.status_code >= 500:
            body = response.content[:300] if hasattr(response, "content") else b""
            log.server_errors.append(
                f"{label} [{mode}] → {response.status_code}: {case.as_curl_command()} {body!r}"
            )

    exercise()


@pytest.fixture
def api_schema(db, face_script, settings, monkeypatch):
    # The schema view needs a staff login; here it answers the fuzzer, whose operations are authenticated
    # per request below.
    from drf_spectacular.views import SpectacularAPIView
    from rest_framework.permissions import AllowAny

    monkeypatch.setattr(SpectacularAPIView, "permission_classes", [AllowAny])
    settings.ALLOWED_HOSTS = ["*"]
    # As django.test.Client does: the end of each in-process request must not close the test's connection
    # (it holds the test transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_no_operation_answers_a_server_error(api_schema, settings, outbox):
    settings.KIOSK_FRAME_MAX_BYTES = 200_000
    staff_headers, staff_cookies = _staff_credentials()
    kiosk_token, session_id = _kiosk_session()
    kiosk_headers = {"Authorization": f"Kiosk {kiosk_token}"}
    log = FuzzLog()
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20, [op.path for op in operations]
    for operation in operations:
        kiosk_op = operation.path.startswith("/api/kiosk/")
        headers, cookies = (kiosk_headers, {}) if kiosk_op else (staff_headers, staff_cookies)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation, log, mode=mode, headers=headers, cookies=cookies)
            if kiosk_op and "{session_id}" in operation.path:
                _run(
                    operation,
                    log,
                    mode=mode,
                    headers=headers,
                    cookies=cookies,
                    path_parameters={"session_id": session_id},
                )
    print(
        f"schemathesis: {len(operations)} operations, {log.requests} requests, "
        f"statuses {sorted(log.statuses.items())}, 2xx reached on {len(log.accepted)} operations"
    )
    assert not log.server_errors, "\n".join(log.server_errors)
    assert log.requests >= len(operations) * 2
    # The credentials worked: both staff and kiosk operations were really exercised, not just refused.
    assert any(label.split()[1].startswith("/api/kiosk/sessions/{") for label in log.accepted), log.accepted
    assert any(label.split()[1].startswith("/api/accounts/") for label in log.accepted), log.accepted
