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


def test_the_pin_pad_hides_back_office_and_sign_out(client, teller):
    """Issue 23 item 3: while the customer holds the device, no way into the back office or out of it."""
    from kiosk.services import cardless
    from tests.factories import BankAccountFactory, CustomerFactory
    from tests.support.faces import active_templates

    customer = CustomerFactory(full_name="Carol Cardless", phone="+447700900003")
    account = BankAccountFactory(customer=customer)
    active_templates(customer, 2)
    cardless.cardless_opt_in(customer=customer, account=account, consent=True, actor=teller)
    client.force_login(teller)
    pad = client.get(reverse("branch:cardless-pin", args=[customer.pk])).content.decode()
    assert 'id="cardless-pin-pad"' in pad
    assert reverse("admin:index") not in pad and reverse("admin:logout") not in pad
    staff_page = client.get(reverse("branch:cardless", args=[customer.pk])).content.decode()
    assert reverse("admin:logout") in staff_page
