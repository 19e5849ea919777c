"""Issue 25 item 1: four-eyes knows kinds, not apps. Every kind has handlers once the apps are loaded, each
registered by the app that owns it, and accounts.approvals imports neither biometrics nor kiosk."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.approvals import kinds
from accounts.approvals.services import change_kind_register
from accounts.models import ChangeRequest

APPROVALS = Path(__file__).resolve().parents[2] / "accounts" / "approvals"
OWNERS = {
    "biometrics.approvals": {"face_enrol", "face_reenrol", "biometrics_revoke", "biometrics_erase"},
    "kiosk.approvals": {"cardless_opt_in", "cardless_reset"},
}


def test_every_change_kind_has_a_registered_handler_after_app_loading():
    assert kinds.change_kinds_unregistered() == []
    for kind in ChangeRequest.Kind.values:
        handlers = kinds.change_kind(kind)
        assert callable(handlers.apply) and callable(handlers.values) and callable(handlers.rows)


def test_each_kind_is_handled_by_the_app_that_owns_it():
    for module, owned in OWNERS.items():
        for kind in owned:
            assert kinds.change_kind(kind).apply.__module__ == module, kind
    for kind in set(ChangeRequest.Kind.values) - set().union(*OWNERS.values()):
        assert kinds.change_kind(kind).apply.__module__.startswith("accounts.approvals."), kind


def test_a_kind_without_handlers_is_a_configuration_error(monkeypatch):
    monkeypatch.delitem(kinds._KINDS, ChangeRequest.Kind.PHONE_CHANGE)
    assert kinds.change_kinds_unregistered() == [ChangeRequest.Kind.PHONE_CHANGE]
    with pytest.raises(ImproperlyConfigured, match="phone_change"):
        kinds.change_kind(ChangeRequest.Kind.PHONE_CHANGE)


def test_a_kind_cannot_be_taken_over_by_another_app():
    registered = kinds.change_kind(ChangeRequest.Kind.FACE_REENROL)
    with pytest.raises(ImproperlyConfigured, match="twice"):
        change_kind_register(
            ChangeRequest.Kind.FACE_REENROL,
            apply=lambda change, actor: None,
            values=registered.values,
            rows=registered.rows,
        )
    assert kinds.change_kind(ChangeRequest.Kind.FACE_REENROL) == registered
    with pytest.raises(ImproperlyConfigured):
        change_kind_register(
            "no_such_kind", apply=registered.apply, values=registered.values, rows=registered.rows
        )


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):  # function-level imports included
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_four_eyes_imports_none_of_the_apps_it_serves():
    offenders = {
        f"{path.relative_to(APPROVALS.parent)}: {module}"
        for path in APPROVALS.rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] in {"biometrics", "kiosk", "portal", "branch"}
    }
    assert offenders == set()


@pytest.mark.django_db
def test_a_staff_grant_and_an_account_closure_read_plainly_to_the_checker(client, administrator, alice_card):
    # Both fell through to the face rows before (KeyError 'template_ids': the pending list did not open).
    from decimal import Decimal

    from django.urls import reverse

    from accounts.approvals.services import account_close_propose, staff_grant_propose
    from accounts.models import BankAccount
    from accounts.roles import SUPERVISOR
    from tests.factories import UserFactory
    from tests.support import sweep

    sidekick = UserFactory(username="sidekick", is_active=False)
    wanted = {"is_active": True, "is_staff": True, "is_superuser": False, "groups": [SUPERVISOR]}
    grant = staff_grant_propose(
        user=sidekick, wanted={**wanted, "permissions": []}, actor=administrator, reason="new supervisor"
    )
    BankAccount.objects.filter(pk=alice_card.account.pk).update(balance=Decimal("0"))
    closure = account_close_propose(account=alice_card.account, actor=administrator, reason="customer leaves")
    checker = UserFactory(username="second_admin", is_staff=True, is_superuser=True)
    client.force_login(checker)
    pending = client.get(reverse("admin:accounts_changerequest_changelist") + "?state__exact=pending")
    assert pending.status_code == 200
    page = pending.content.decode()
    assert f"Groups: — → {SUPERVISOR}" in page and "Status: Active → Closed" in page
    approve = client.get(reverse("admin:accounts_changerequest_approve", args=[grant.pk])).content.decode()
    assert "sidekick" in approve and "template_ids" not in approve
    assert "None" not in approve  # a request about no customer is titled by its kind alone
    client.cookies["django_language"] = "ru"
    url = reverse("admin:accounts_changerequest_approve", args=[closure.pk])
    russian = client.get(url, HTTP_ACCEPT_LANGUAGE="ru")
    assert russian.status_code == 200
    assert not sweep.page_findings(url, russian.content.decode(), sweep.data_values())
    # Django's own translations of the login's fields, and no English anywhere on the page.
    url = reverse("admin:accounts_changerequest_approve", args=[grant.pk])
    russian_rows = (
        client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode().split('id="change-proposer"')[0]
    )
    assert "Группы" in russian_rows and "Статус суперпользователя" in russian_rows
    assert "Groups" not in russian_rows and "Superuser status" not in russian_rows
    russian_grant = client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert not sweep.page_findings(url, russian_grant, sweep.data_values())
