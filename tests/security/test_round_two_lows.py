"""Issue 20, item 7 (lows): no 5xx for hostile input; the API description needs a staff login."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from .helpers import assert_nothing_written, db_picture
from .test_hostile_staff_input import enrolment_client  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _deep_json(depth: int) -> str:
    return '{"amount": ' + "[" * depth + "]" * depth + "}"


def test_100k_deep_nested_json_is_a_4xx_and_writes_nothing(started, teller_client):
    """Found: a 5xx (RecursionError in the JSON parser) for 100,000-deep nested JSON."""
    before = db_picture()
    body = _deep_json(100_000)
    kiosk = started.client.post(
        f"/api/kiosk/sessions/{started.sid}/withdrawals/", body, content_type="application/json"
    )
    staff = teller_client.post("/api/accounts/customers/", body, content_type="application/json")
    for response in (kiosk, staff):
        assert 400 <= response.status_code < 500, response.content[:200]
    assert kiosk.json()["code"] == "parse_error"
    assert_nothing_written(before)


def test_a_1x1_enrolment_photo_is_a_4xx_and_writes_nothing(enrolment_client):  # noqa: F811
    before = db_picture()
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (120, 120, 120)).save(buffer, format="JPEG")
    buffer.seek(0)
    buffer.name = "photo.jpg"
    response = enrolment_client.post(
        f"/api/biometrics/enrolments/{enrolment_client.enrolment_id}/photos/",
        {"photo": buffer},
        format="multipart",
    )
    assert response.status_code < 500, response.content[:300]
    if response.status_code == 201:
        assert response.json()["accepted"] is False
    assert_nothing_written(before)


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/"])
def test_the_api_schema_and_docs_need_a_staff_login(path, teller_client, customer_client):
    """Found: `/api/schema/` and `/api/docs/` answered anybody in production."""
    assert Client().get(path).status_code in (401, 403)
    assert customer_client.get(path).status_code in (401, 403)
    assert teller_client.get(path).status_code == 200


@pytest.fixture
def customer_client(db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="not-staff", password="x" * 20)
    client = Client()
    client.force_login(user)
    return client
