"""Issue 23 item 4: the admin index opens on Today — approvals waiting for me, today's sessions by outcome
(a small CSS chart), failed checks to review, per kiosk its cash, bin and last error in warning colours."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kiosk.models import Cassette
from tests.backoffice.test_russian_sweep import busy_bank, media, supervisor  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["en", "ru"])
def test_today_on_the_admin_index(
    client,
    busy_bank,  # noqa: F811
    supervisor,  # noqa: F811
    kiosk,
    language,
):
    Cassette.objects.filter(kiosk=kiosk, denomination=50).update(count=3)  # nearly empty
    client.force_login(supervisor)
    client.cookies["django_language"] = language
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="today"' in page and 'id="today-outcomes"' in page
    waiting = busy_bank["alice"].change_requests.filter(state="pending").first()
    assert reverse("admin:accounts_changerequest_approve", args=[waiting.pk]) in page
    assert '<meter class="today-bar today-bar--refused"' in page
    assert '<span class="today-warn">50×3</span>' in page
    assert "<script" not in page.split('id="today"')[1].split("</table>")[0]  # no script, no CDN


def test_a_teller_is_not_shown_approvals(client, teller, alice, auditor):
    from accounts.approvals import services as approvals

    approvals.phone_change_propose(customer=alice, phone="+447700900077", actor=auditor)
    client.force_login(teller)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'id="today"' in page and "/approve/" not in page
