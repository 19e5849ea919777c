"""Issue 23 item 3: what cannot be undone in one click asks first."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_deactivating_a_customer_asks_first(client, administrator, alice):
    from tests.support.admin_forms import admin_form_data

    client.force_login(administrator)
    url = reverse("admin:accounts_customer_change", args=[alice.pk])
    data = admin_form_data(client, url)
    data.pop("is_active", None)  # the box unticked
    asked = client.post(url, data)
    alice.refresh_from_db()
    assert (
        asked.status_code == 200 and 'id="confirm-deactivate"' in asked.content.decode() and alice.is_active
    )
    client.post(url, {**data, "confirm_deactivate": "yes"})
    alice.refresh_from_db()
    assert not alice.is_active
