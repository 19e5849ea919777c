"""Today on the admin index (issue 23 item 4): approvals I may decide, today's sessions by outcome with a
chart, failed face checks waiting for review, and each kiosk's health, warning where action is needed."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.approvals.services import phone_change_propose
from accounts.roles import SUPERVISOR
from audit.models import AuditEvent, AuditSnapshot
from audit.services import audit_event_record
from kiosk.models import CashInBin, Kiosk
from kiosk.services.heartbeat import kiosk_heartbeat_record
from tests.factories import CustomerFactory, KioskFactory, UserFactory
from tests.kiosk.factories import KioskSessionFactory

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 12, 7, 11, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def at_eleven(settings):
    settings.TIME_ZONE = "UTC"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def supervisor(roles):
    user = UserFactory(username="sam_supervisor")
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


def _index(client, user) -> str:
    client.force_login(user)
    answer = client.get(reverse("admin:index"))
    assert answer.status_code == 200
    return answer.content.decode()


def _section(html: str, section_id: str) -> str:
    start = html.index(f'id="{section_id}"')
    end = html.index('<div class="module', start + 10) if section_id != "today-kiosks" else None
    return html[start:end]


def test_approvals_waiting_for_me_exclude_my_own(client, teller, supervisor, alice):
    other = CustomerFactory(full_name="Other Person")
    from_teller = phone_change_propose(customer=alice, phone="+447700900998", actor=teller)
    mine = phone_change_propose(customer=other, phone="+447700900997", actor=supervisor)
    html = _section(_index(client, supervisor), "today-approvals")
    assert reverse("admin:accounts_changerequest_change", args=[from_teller.pk]) in html
    assert reverse("admin:accounts_changerequest_change", args=[mine.pk]) not in html
    assert 'id="today-approvals"' not in _index(client, teller)  # a teller decides nothing


def test_todays_sessions_are_counted_by_outcome(client, administrator, kiosk):
    KioskSessionFactory(kiosk=kiosk)  # verified by face
    KioskSessionFactory(kiosk=kiosk, verified_by="otp")
    refused = {"state": "ended", "verified_at": None, "verified_by": "", "face_failure_reason": "no_match"}
    KioskSessionFactory(kiosk=kiosk, **refused)
    KioskSessionFactory(kiosk=kiosk, **refused)
    KioskSessionFactory(kiosk=kiosk, created_at=NOW - dt.timedelta(days=1))  # yesterday: not today
    html = _section(_index(client, administrator), "today-sessions")
    counts = dict(re.findall(r'data-outcome="(\w+)">.*?<span class="n">(\d+)</span>', html, re.S))
    assert counts == {"verified": "1", "code_used": "1", "refused": "2", "other": "0"}
    assert "width: 50%" in html  # the refused bar: half the day's sessions
    day_list = re.search(r'href="(/admin/kiosk/kiosksession/\?[^"]+)"', html).group(1).replace("&amp;", "&")
    listed = client.get(day_list)
    assert listed.status_code == 200 and listed.context["cl"].result_count == 4  # today's, not yesterday's


def test_failed_checks_waiting_for_review_only_for_reviewers(client, auditor, teller, alice_card, kiosk):
    with transaction.atomic():
        event = audit_event_record(
            kind=AuditEvent.Kind.FACE_DECISION, outcome="failure", customer_id=alice_card.customer_id
        )
        AuditSnapshot.objects.create(event=event, storage_name="snapshots/x", created_at=timezone.now())
    html = _section(_index(client, auditor), "today-snapshots")
    assert re.search(r"status=new\">1</a>", html)
    assert 'id="today-snapshots"' not in _index(client, teller)


def test_kiosk_health_warns_where_action_is_needed(client, administrator, settings):
    settings.KIOSK_OFFLINE_AFTER_S = 120
    settings.KIOSK_CASSETTE_LOW_NOTES = 50
    settings.KIOSK_BIN_CAPACITY_NOTES = 100
    healthy = KioskFactory(name="Healthy", cassettes={50: 100, 20: 100})
    kiosk_heartbeat_record(kiosk=healthy, now=NOW - dt.timedelta(seconds=30))
    silent = KioskFactory(name="Silent", cassettes={50: 100})
    kiosk_heartbeat_record(kiosk=silent, now=NOW - dt.timedelta(seconds=121))
    low = KioskFactory(name="Low", cassettes={50: 3, 20: 100})
    kiosk_heartbeat_record(kiosk=low, now=NOW)
    full = KioskFactory(name="Full", cassettes={50: 100})
    kiosk_heartbeat_record(kiosk=full, now=NOW, error="Cash-in module jammed")
    CashInBin.objects.create(kiosk=full, denomination=20, count=97)
    serviced = KioskFactory(name="Serviced", status=Kiosk.Status.MAINTENANCE, cassettes={50: 100})
    kiosk_heartbeat_record(kiosk=serviced, now=NOW)
    KioskFactory(name="Retired", status=Kiosk.Status.DISABLED)
    html = _section(_index(client, administrator), "today-kiosks")
    rows = {name: css for css, name in re.findall(r'<tr class="([^"]*)" data-kiosk="(\w+)"', html)}
    assert rows == {
        "Full": "needs-action",
        "Healthy": "",
        "Low": "needs-action",
        "Serviced": "needs-action",
        "Silent": "needs-action",
    }
    assert "Retired" not in html
    silent_row = html[html.index('data-kiosk="Silent"') :]
    assert "Offline" in silent_row[: silent_row.index("</tr>")]
    assert '<span class="warn">50 × 3</span>' in html
    assert "Cash-in module jammed" in html and "about 90 % full" in html
    # The bin is counted blind: the page shows its fill in steps of 10 %, never the notes it holds.
    full_row = html[html.index('data-kiosk="Full"') :]
    assert "97" not in full_row[: full_row.index("</tr>")]


def test_today_is_not_shown_to_non_staff(client):
    client.force_login(UserFactory(username="not_staff", is_staff=False))
    answer = client.get(reverse("admin:index"))
    assert answer.status_code == 302 and "login" in answer["Location"]
