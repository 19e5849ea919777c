"""Issue 20, item 2 (c): an administrator created a second login, gave it the Supervisor role and approved his
own limit increase with it. Creating a login and granting a role are four-eyes changes, and a decision counts
the person: a login the proposer created or re-roled recently cannot decide the proposer's requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone

from accounts.approvals.services import change_request_approve, limit_change_propose, staff_grant_propose
from accounts.models import ChangeRequest
from accounts.roles import ADMINISTRATOR, SUPERVISOR
from atmsite.errors import ApplicationError
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _admin(username: str) -> User:
    user = User.objects.create_user(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=ADMINISTRATOR))
    return user


def test_one_administrator_cannot_create_a_supervisor_login_alone(client, administrator, roles) -> None:
    client.force_login(administrator)
    client.post(
        reverse("admin:auth_user_add"),
        {"username": "sidekick", "password1": "A-long-pass-9876!", "password2": "A-long-pass-9876!"},
    )
    sidekick = User.objects.get(username="sidekick")
    assert not sidekick.is_active and not sidekick.is_staff  # created, but can do nothing yet
    supervisor = Group.objects.get(name=SUPERVISOR)
    url = reverse("admin:auth_user_change", args=[sidekick.pk])
    page = client.get(url)
    data = {
        "username": "sidekick",
        "is_active": "on",
        "is_staff": "on",
        "groups": [supervisor.pk],
        "grant_reason": "new branch supervisor",
        "date_joined_0": timezone.localdate().isoformat(),
        "date_joined_1": "09:00:00",
    }
    assert page.status_code == 200
    client.post(url, data)
    sidekick.refresh_from_db()
    assert not sidekick.is_active and not sidekick.groups.exists()  # nothing granted yet
    change = ChangeRequest.objects.get(kind=ChangeRequest.Kind.STAFF_GRANT)
    assert change.payload["groups"] == [SUPERVISOR] and change.proposal_reason == "new branch supervisor"
    with pytest.raises(ApplicationError):
        change_request_approve(change_request=change, actor=administrator)
    change_request_approve(change_request=change, actor=_admin("second_admin"))
    sidekick.refresh_from_db()
    assert sidekick.is_active and list(sidekick.groups.values_list("name", flat=True)) == [SUPERVISOR]


def test_a_login_the_proposer_created_or_re_roled_recently_cannot_decide_their_requests(
    administrator, alice_card, roles, settings
) -> None:
    sidekick = UserFactory(username="sidekick", is_active=False)
    grant = staff_grant_propose(
        user=sidekick,
        wanted={
            "is_active": True,
            "is_staff": True,
            "is_superuser": False,
            "groups": [SUPERVISOR],
            "permissions": [],
        },
        actor=administrator,
        reason="new supervisor",
    )
    change_request_approve(change_request=grant, actor=_admin("second_admin"))
    raise_limit = limit_change_propose(
        account=alice_card.account, limit=Decimal("50000"), actor=administrator
    )
    sidekick.refresh_from_db()
    with pytest.raises(ApplicationError) as refused:
        change_request_approve(change_request=raise_limit, actor=sidekick)
    assert refused.value.code == "four_eyes_granted_by_proposer"
    assert "30 days" in refused.value.message
    alice_card.account.refresh_from_db()
    assert alice_card.account.daily_withdrawal_limit == Decimal("1000")
    later = timezone.now() + dt.timedelta(days=settings.STAFF_GRANT_COOLING_DAYS + 1)
    with time_machine.travel(later):
        change_request_approve(change_request=raise_limit, actor=sidekick)
    alice_card.account.refresh_from_db()
    assert alice_card.account.daily_withdrawal_limit == Decimal("50000")


def test_a_login_the_proposer_promoted_directly_in_the_admin_counts_too(
    administrator, alice_card, roles
) -> None:
    """A grant made before these rules (or by any path the admin logs) counts the same."""
    from django.contrib.admin.models import CHANGE, LogEntry

    sidekick = User.objects.create_user(username="sidekick")
    sidekick.groups.add(Group.objects.get(name=SUPERVISOR))
    LogEntry.objects.log_actions(
        user_id=administrator.pk, queryset=[sidekick], action_flag=CHANGE, change_message="[]"
    )
    raise_limit = limit_change_propose(
        account=alice_card.account, limit=Decimal("50000"), actor=administrator
    )
    with pytest.raises(ApplicationError):
        change_request_approve(change_request=raise_limit, actor=sidekick)
