from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_an_absurdly_long_username_is_a_form_error_not_a_500(client):
    response = client.post("/admin/login/", {"username": "u" * 5000, "password": "x"})
    assert response.status_code == 200
    assert "Please enter the correct username" in response.content.decode()


def test_staff_login_is_throttled_after_repeated_failures(client, teller):
    for _ in range(5):
        client.post("/admin/login/", {"username": teller.username, "password": "wrong-password"})
    response = client.post(
        "/admin/login/", {"username": teller.username, "password": "correct-horse-battery"}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
