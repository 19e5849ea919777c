"""Issue 23 item 4: one customer page with accounts, cards, face, card-less, pending requests, last sessions,
last transactions and snapshots of failed checks, each linking to its detail."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kiosk.models import KioskSession
from tests.backoffice.test_russian_sweep import busy_bank, media, supervisor  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "ru"])
def test_customer_overview_shows_everything_with_links(
    client,
    busy_bank,  # noqa: F811
    auditor,
    language,
):
    alice, card = busy_bank["alice"], busy_bank["card"]
    client.force_login(auditor)
    client.cookies["django_language"] = language
    change_page = client.get(reverse("admin:accounts_customer_change", args=[alice.pk])).content.decode()
    assert 'id="overview-link"' in change_page
    page = client.get(reverse("admin:accounts_customer_overview", args=[alice.pk])).content.decode()
    assert reverse("admin:accounts_bankaccount_change", args=[card.account_id]) in page
    assert reverse("admin:accounts_card_change", args=[card.pk]) in page and card.masked_pan in page
    assert 'id="overview-face"' in page and 'id="overview-cardless"' in page
    pending = alice.change_requests.filter(state="pending")
    assert pending.exists() and all(
        reverse("admin:accounts_changerequest_change", args=[c.pk]) in page for c in pending
    )
    session = KioskSession.objects.filter(card=card).get()
    assert reverse("admin:kiosk_kiosksession_change", args=[session.pk]) in page
    assert reverse("admin:audit_auditevent_snapshots") in page  # the failed check's snapshot
    if language == "ru":
        from tests.support import sweep

        found = sweep.page_findings("overview", page, sweep.data_values())
        assert found is None, found.texts


def test_customer_overview_needs_the_view_right(client, alice):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    answer = client.get(reverse("admin:accounts_customer_overview", args=[alice.pk]))
    assert answer.status_code in (302, 403)
