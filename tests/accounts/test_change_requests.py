"""Maker-checker services, kind by kind: a proposal changes nothing; only a different member of staff with the
approve permission applies it, in one transaction with old and new values in the trail; a rejection keeps
its reason; a request whose target changed meanwhile is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.approvals import services as approvals
from accounts.models import BankAccount, Card, ChangeRequest, Customer
from accounts.pan import pan_hash
from accounts.roles import SUPERVISOR, TELLER
from atmsite.errors import ApplicationError
from audit.models import AuditEvent
from biometrics.approvals import biometrics_erase_propose, biometrics_revoke_propose
from biometrics.models import Enrolment, FaceTemplate
from biometrics.services import enrolment_encoding, enrolment_review
from biometrics.services.templates import biometrics_revoke
from tests.biometrics.test_enrolment_support import fresh_gallery  # noqa: F401
from tests.factories import UserFactory, make_pan
from tests.support.faces import active_templates, encoded_enrolment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_gallery")]

OLD_PHONE, NEW_PHONE = "+447700900001", "+447700955555"
NEW_PAN, REPLACEMENT_PAN = make_pan(77), make_pan(78)
EXPIRES = dt.date(2031, 1, 31)


@dataclass
class World:
    alice: Customer
    card: Card
    account: BankAccount
    teller: object
    templates: list[FaceTemplate]


@dataclass(frozen=True)
class Case:
    propose: Callable[[World], ChangeRequest]
    unchanged: Callable[[World], bool]
    applied: Callable[[World], bool]
    make_stale: Callable[[World], None]


def _active_count(world: World) -> int:
    return FaceTemplate.objects.filter(
        customer=world.alice, revoked_at__isnull=True, gallery_added_version__isnull=False
    ).count()


def _reenrol(world: World) -> ChangeRequest:
    enrolment = enrolment_encoding._enrolment_finish(
        enrolment_id=encoded_enrolment(world.alice, world.teller).pk
    )
    assert enrolment.status == Enrolment.Status.NEEDS_REVIEW
    return ChangeRequest.objects.get(kind=ChangeRequest.Kind.FACE_REENROL)


def _encodings(world: World) -> set[str]:
    # The column is encrypted: compare decrypted values, not SQL.
    return set(FaceTemplate.objects.filter(customer=world.alice).values_list("encoding", flat=True))


def _limit_increase(world: World) -> ChangeRequest:
    change = approvals.limit_change_propose(account=world.account, limit="5000.00", actor=world.teller)
    assert change is not None
    return change


def _phone(world: World) -> str:
    return Customer.objects.get(pk=world.alice.pk).phone


def _limit(world: World) -> Decimal:
    return BankAccount.objects.get(pk=world.account.pk).daily_withdrawal_limit


def _card_status(world: World) -> str:
    return Card.objects.get(pk=world.card.pk).status


CASES = {
    "phone_change": Case(
        propose=lambda w: approvals.phone_change_propose(customer=w.alice, phone=NEW_PHONE, actor=w.teller),
        unchanged=lambda w: _phone(w) == OLD_PHONE,
        applied=lambda w: _phone(w) == NEW_PHONE,
        make_stale=lambda w: Customer.objects.filter(pk=w.alice.pk).update(phone="+447700900777"),
    ),
    "limit_increase": Case(
        propose=lambda w: _limit_increase(w),
        unchanged=lambda w: _limit(w) == Decimal("1000.00"),
        applied=lambda w: _limit(w) == Decimal("5000.00"),
        make_stale=lambda w: BankAccount.objects.filter(pk=w.account.pk).update(daily_withdrawal_limit=1500),
    ),
    "card_issue": Case(
        propose=lambda w: approvals.card_issue_propose(
            customer=w.alice, account=w.account, pan=NEW_PAN, expires_on=EXPIRES, actor=w.teller
        ),
        unchanged=lambda w: not Card.objects.filter(pan_hmac=pan_hash(NEW_PAN)).exists(),
        applied=lambda w: Card.objects.filter(pan_hmac=pan_hash(NEW_PAN), account=w.account).exists(),
        make_stale=lambda w: BankAccount.objects.filter(pk=w.account.pk).update(status="frozen"),
    ),
    "card_replace": Case(
        propose=lambda w: approvals.card_replace_propose(
            card=w.card, pan=REPLACEMENT_PAN, expires_on=EXPIRES, actor=w.teller, reason="Worn out"
        ),
        unchanged=lambda w: (
            _card_status(w) == Card.Status.ACTIVE
            and not Card.objects.filter(pan_hmac=pan_hash(REPLACEMENT_PAN)).exists()
        ),
        applied=lambda w: (
            _card_status(w) == Card.Status.BLOCKED
            and Card.objects.get(pan_hmac=pan_hash(REPLACEMENT_PAN)).status == Card.Status.ACTIVE
        ),
        make_stale=lambda w: Card.objects.filter(pk=w.card.pk).update(status=Card.Status.STOLEN),
    ),
    "biometrics_revoke": Case(
        propose=lambda w: biometrics_revoke_propose(customer=w.alice, actor=w.teller, reason="Asked"),
        unchanged=lambda w: _active_count(w) == 2,
        applied=lambda w: _active_count(w) == 0,
        make_stale=lambda w: active_templates(w.alice, 1),
    ),
    "biometrics_erase": Case(
        propose=lambda w: biometrics_erase_propose(customer=w.alice, actor=w.teller),
        unchanged=lambda w: _active_count(w) == 2 and "" not in _encodings(w),
        applied=lambda w: _active_count(w) == 0 and _encodings(w) == {""},
        make_stale=lambda w: active_templates(w.alice, 1),
    ),
    "face_reenrol": Case(
        propose=_reenrol,
        unchanged=lambda w: (
            {t.pk for t in w.templates}
            == set(
                FaceTemplate.objects.filter(
                    customer=w.alice, revoked_at__isnull=True, gallery_added_version__isnull=False
                ).values_list("pk", flat=True)
            )
        ),
        applied=lambda w: (
            _active_count(w) == 2
            and not FaceTemplate.objects.filter(
                pk__in=[t.pk for t in w.templates], revoked_at__isnull=True
            ).exists()
        ),
        make_stale=lambda w: biometrics_revoke(customer=w.alice, actor=None),
    ),
}
KINDS = sorted(CASES)


@pytest.fixture
def world(alice_card, teller) -> World:
    return World(
        alice=alice_card.customer,
        card=alice_card,
        account=alice_card.account,
        teller=teller,
        templates=active_templates(alice_card.customer, 2),
    )


@pytest.fixture
def supervisor(roles) -> object:
    user = UserFactory(username="sam_supervisor")
    user.groups.add(Group.objects.get(name=SUPERVISOR))
    return user


def _audit(kind: str, change: ChangeRequest) -> AuditEvent:
    return AuditEvent.objects.filter(kind=kind, data__change_request_id=change.pk).get()


@pytest.mark.parametrize("kind", KINDS)
def test_a_proposal_changes_nothing(world, kind):
    case = CASES[kind]
    change = case.propose(world)
    assert change.state == ChangeRequest.State.PENDING and change.kind == kind
    assert case.unchanged(world)
    assert _audit(AuditEvent.Kind.CHANGE_PROPOSED, change).data["new"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_proposer_cannot_approve_even_as_a_superuser(world, kind):
    case = CASES[kind]
    change = case.propose(world)
    world.teller.is_superuser = True
    world.teller.save(update_fields=["is_superuser"])
    with pytest.raises(ApplicationError) as refused:
        approvals.change_request_approve(change_request=change, actor=world.teller)
    assert refused.value.code == "four_eyes"
    assert case.unchanged(world)
    assert ChangeRequest.objects.get(pk=change.pk).state == ChangeRequest.State.PENDING


@pytest.mark.parametrize("kind", KINDS)
def test_staff_without_the_approve_permission_cannot_approve(world, kind, auditor):
    case = CASES[kind]
    change = case.propose(world)
    other_teller = UserFactory(username="tom_teller")
    other_teller.groups.add(Group.objects.get(name=TELLER))
    for user in (other_teller, auditor):
        with pytest.raises(ApplicationError) as refused:
            approvals.change_request_approve(change_request=change, actor=user)
        assert refused.value.code == "approve_permission"
    assert case.unchanged(world)


@pytest.mark.parametrize("kind", KINDS)
def test_approval_applies_and_audits_old_and_new(world, kind, administrator):
    case = CASES[kind]
    change = case.propose(world)
    approvals.change_request_approve(change_request=change, actor=administrator)
    assert case.applied(world)
    change.refresh_from_db()
    assert (change.state, change.decided_by) == (ChangeRequest.State.APPROVED, administrator)
    event = _audit(AuditEvent.Kind.CHANGE_APPROVED, change)
    assert event.actor_id == administrator.pk and event.data["proposed_by"] == world.teller.username
    assert "old" in event.data and event.data["new"]
    text = str(list(AuditEvent.objects.values_list("data", "personal")))
    for secret in (NEW_PHONE, OLD_PHONE, NEW_PAN, REPLACEMENT_PAN):
        assert secret not in text


def test_the_phone_approval_shows_both_numbers_masked(world, administrator):
    change = CASES["phone_change"].propose(world)
    approvals.change_request_approve(change_request=change, actor=administrator)
    event = _audit(AuditEvent.Kind.CHANGE_APPROVED, change)
    assert event.data["old"] == {"phone": "•••• 0001"} and event.data["new"] == {"phone": "•••• 5555"}


@pytest.mark.parametrize("kind", KINDS)
def test_a_rejection_records_the_reason_and_changes_nothing(world, kind, supervisor):
    case = CASES[kind]
    change = case.propose(world)
    with pytest.raises(ApplicationError) as refused:
        approvals.change_request_reject(change_request=change, actor=supervisor, reason="  ")
    assert refused.value.code == "reason_required"
    approvals.change_request_reject(change_request=change, actor=supervisor, reason="Customer did not ask")
    assert case.unchanged(world)
    change.refresh_from_db()
    assert (change.state, change.reason) == (ChangeRequest.State.REJECTED, "Customer did not ask")
    assert _audit(AuditEvent.Kind.CHANGE_REJECTED, change).data["reason"] == "Customer did not ask"
    with pytest.raises(ApplicationError) as again:
        approvals.change_request_approve(change_request=change, actor=supervisor)
    assert again.value.code == "change_not_pending"


@pytest.mark.parametrize("kind", KINDS)
def test_a_stale_request_is_refused(world, kind, administrator):
    case = CASES[kind]
    change = case.propose(world)
    case.make_stale(world)
    events_before = AuditEvent.objects.count()
    with pytest.raises(ApplicationError) as refused:
        approvals.change_request_approve(change_request=change, actor=administrator)
    assert refused.value.code == "change_stale"
    assert ChangeRequest.objects.get(pk=change.pk).state == ChangeRequest.State.PENDING
    assert AuditEvent.objects.count() == events_before  # the refused approval wrote nothing


def test_a_pending_card_issue_holds_no_card_number(world):
    change = CASES["card_issue"].propose(world)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT payload, baseline, summary FROM accounts_changerequest WHERE id = %s", [change.pk]
        )
        row = " ".join(str(column) for column in cursor.fetchone())
    assert NEW_PAN not in row and NEW_PAN[-4:] in row


def test_a_number_pending_or_registered_cannot_be_proposed_again(world, alice_pan):
    CASES["card_issue"].propose(world)
    for pan in (NEW_PAN, alice_pan):
        with pytest.raises(ApplicationError) as refused:
            approvals.card_replace_propose(card=world.card, pan=pan, expires_on=EXPIRES, actor=world.teller)
        assert refused.value.code == "pan_duplicate"


def test_approval_refuses_a_card_number_registered_meanwhile(world, administrator):
    from accounts import services

    change = CASES["card_issue"].propose(world)
    services.card_issue(customer=world.alice, account=world.account, pan=NEW_PAN, expires_on=EXPIRES)
    with pytest.raises(ApplicationError) as refused:
        approvals.change_request_approve(change_request=change, actor=administrator)
    assert refused.value.code == "pan_duplicate"


def test_a_limit_decrease_applies_at_once_and_is_audited(world):
    assert approvals.limit_change_propose(account=world.account, limit="250.00", actor=world.teller) is None
    assert _limit(world) == Decimal("250.00")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACCOUNT_UPDATED)
    assert event.data["changes"]["daily_withdrawal_limit"] == {"old": "1000.00", "new": "250.00"}


@pytest.mark.parametrize("raw", ["-1", "abc", "1e12", "10.001", "NaN"])
def test_a_bad_limit_is_refused(world, raw):
    with pytest.raises(ApplicationError):
        approvals.limit_change_propose(account=world.account, limit=raw, actor=world.teller)
    assert not ChangeRequest.objects.exists() and _limit(world) == Decimal("1000.00")


@pytest.mark.parametrize("phone", ["07700900123", "+44 7700", OLD_PHONE])
def test_a_bad_or_unchanged_phone_is_refused_at_proposal(world, phone):
    with pytest.raises(ApplicationError):
        approvals.phone_change_propose(customer=world.alice, phone=phone, actor=world.teller)
    assert not ChangeRequest.objects.exists()


def test_one_pending_request_per_kind_and_target(world):
    CASES["phone_change"].propose(world)
    with pytest.raises(ApplicationError) as refused:
        approvals.phone_change_propose(customer=world.alice, phone="+447700955556", actor=world.teller)
    assert refused.value.code == "change_pending"


def test_the_proposer_can_cancel_and_nobody_else(world, supervisor):
    change = CASES["phone_change"].propose(world)
    with pytest.raises(ApplicationError):
        approvals.change_request_cancel(change_request=change, actor=supervisor)
    approvals.change_request_cancel(change_request=change, actor=world.teller)
    assert ChangeRequest.objects.get(pk=change.pk).state == ChangeRequest.State.CANCELLED
    assert _phone(world) == OLD_PHONE


def test_a_supervisor_approves_a_colleagues_proposal(world, supervisor):
    change = CASES["phone_change"].propose(world)
    approvals.change_request_approve(change_request=change, actor=supervisor)
    assert _phone(world) == NEW_PHONE
    assert Customer.objects.get(pk=world.alice.pk).phone_changed_at is not None


def test_the_database_refuses_a_self_decided_request(world):
    change = CASES["phone_change"].propose(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        ChangeRequest.objects.filter(pk=change.pk).update(
            state="approved", decided_by=world.teller, decided_at=timezone.now()
        )


def test_reviewing_a_re_enrolment_directly_settles_its_request(world, administrator):
    change = CASES["face_reenrol"].propose(world)
    enrolment = Enrolment.objects.get(pk=change.payload["enrolment_id"])
    with pytest.raises(ApplicationError):
        enrolment_review.enrolment_review(enrolment=enrolment, actor=world.teller, approve=True)
    enrolment_review.enrolment_review(enrolment=enrolment, actor=administrator, approve=True)
    change.refresh_from_db()
    assert (change.state, change.decided_by) == (ChangeRequest.State.APPROVED, administrator)
    assert CASES["face_reenrol"].applied(world)


def _events(customer: Customer, *, after: int = 0) -> list[str]:
    """The kinds of the customer's audit events after seq `after`, proposals left out."""
    return sorted(
        AuditEvent.objects.filter(customer_id=customer.pk, seq__gt=after)
        .exclude(kind=AuditEvent.Kind.CHANGE_PROPOSED)
        .values_list("kind", flat=True)
    )


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_a_re_enrolment_reviewed_directly_leaves_the_same_record_as_one_approved_as_a_request(
    world, administrator, supervisor
):
    # Issue 25: one record of truth. The enrolment review approves the request; the request's handler settles
    # the enrolment. Either door leaves the same audit events and the same note on request and enrolment.
    change = CASES["face_reenrol"].propose(world)
    enrolment = Enrolment.objects.get(pk=change.payload["enrolment_id"])
    before = _last_seq()
    enrolment_review.enrolment_review(
        enrolment=enrolment, actor=administrator, approve=True, note="same person"
    )
    change.refresh_from_db()
    enrolment.refresh_from_db()
    assert change.reason == enrolment.review_note == "same person"
    reviewed = AuditEvent.objects.get(kind=AuditEvent.Kind.ENROLMENT_REVIEWED)
    approved = AuditEvent.objects.get(kind=AuditEvent.Kind.CHANGE_APPROVED)
    assert reviewed.data["note"] == approved.data["reason"] == "same person"
    direct = _events(world.alice, after=before)
    assert AuditEvent.Kind.ENROLMENT_COMPLETED in direct

    second = encoded_enrolment(world.alice, world.teller)
    enrolment_encoding._enrolment_finish(enrolment_id=second.pk)
    request = ChangeRequest.objects.get(state=ChangeRequest.State.PENDING, target=f"enrolment:{second.pk}")
    before = _last_seq()
    approvals.change_request_approve(change_request=request, actor=supervisor)
    assert _events(world.alice, after=before) == direct


def test_rejecting_a_re_enrolment_at_the_review_rejects_its_request(world, administrator):
    change = CASES["face_reenrol"].propose(world)
    enrolment = Enrolment.objects.get(pk=change.payload["enrolment_id"])
    enrolment_review.enrolment_review(enrolment=enrolment, actor=administrator, approve=False)
    change.refresh_from_db()
    enrolment.refresh_from_db()
    assert (change.state, change.decided_by) == (ChangeRequest.State.REJECTED, administrator)
    assert enrolment.status == Enrolment.Status.REJECTED and CASES["face_reenrol"].unchanged(world)
    assert not enrolment.templates.filter(revoked_at__isnull=True).exists()


def test_an_enrolment_with_a_pending_request_is_never_settled_beside_it(world, administrator):
    # The settling step runs only once the request is decided (its handler): never while it is pending.
    from biometrics.services.enrolment_review import enrolment_review_settle

    change = CASES["face_reenrol"].propose(world)
    enrolment = Enrolment.objects.get(pk=change.payload["enrolment_id"])
    with pytest.raises(ApplicationError) as refused:
        enrolment_review_settle(enrolment=enrolment, actor=administrator, approve=True)
    assert refused.value.code == "change_pending"
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.NEEDS_REVIEW and CASES["face_reenrol"].unchanged(world)


def test_a_first_enrolment_waits_for_a_second_person_too(teller, alice):
    # Issue 20 (a): a customer with no active face given one by a lone teller was an account handed over.
    enrolment = enrolment_encoding._enrolment_finish(enrolment_id=encoded_enrolment(alice, teller).pk)
    assert enrolment.status == Enrolment.Status.NEEDS_REVIEW
    assert ChangeRequest.objects.get().kind == ChangeRequest.Kind.FACE_ENROL


def test_a_failed_notice_to_the_old_number_is_recorded(
    world, administrator, monkeypatch, django_capture_on_commit_callbacks
):
    from notifications.senders import OtpSendError, TestSender

    def refuse(self, *, phone: str, body: str) -> None:
        raise OtpSendError("Twilio unreachable: ConnectTimeout")

    monkeypatch.setattr(TestSender, "send", refuse)
    change = CASES["phone_change"].propose(world)
    with django_capture_on_commit_callbacks(execute=True):
        approvals.change_request_approve(change_request=change, actor=administrator)
    assert _phone(world) == NEW_PHONE
    notice = AuditEvent.objects.get(kind=AuditEvent.Kind.PHONE_CHANGE_NOTICE)
    assert notice.outcome == AuditEvent.Outcome.FAILURE and notice.data["to"] == "•••• 0001"


def test_no_notice_is_sent_when_the_approval_rolls_back(
    world, administrator, django_capture_on_commit_callbacks
):
    from notifications.senders import TestSender

    TestSender.outbox.clear()
    change = CASES["phone_change"].propose(world)
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        approvals.change_request_approve(change_request=change, actor=administrator)
        raise RuntimeError("something later in the request failed")
    assert TestSender.outbox == [] and _phone(world) == OLD_PHONE
