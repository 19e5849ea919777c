"""Naming a face after the fact, when the 1:N matcher did not answer in time at the kiosk.

The kiosk decides every frame 1:1 against the card owner at once. Only a frame that does not match the
owner needs the 1:N answer: another enrolled customer's face (a mismatch) means no one-time code for the
session, anybody else's face is an ordinary no-match. When the matcher cannot answer within its deadline, the
frame counts as a no-match for the customer (the flow goes on, a code may be offered), and the frame's
encoding is kept encrypted as a `DeferredNaming`, with an audit event and the snapshot. A task asks the
matcher again until it answers; if the face was another enrolled customer's, the mismatch rule is applied
late: the session ends if still open, any unused code of the session is voided, the mismatch is counted as
evidence against the card (mismatches from two kiosks block it), and an audit event says all of it was
decided after the fact.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Card
from audit.models import AuditEvent
from biometrics.models import ENCODING_SIZE
from biometrics.verdicts import FrameVerdict

from ..locks import deferred_naming_lock, session_lock
from ..models import DeferredNaming, KioskSession, OtpCode
from . import card_security, face
from .sessions import State, session_audit, session_close

logger = logging.getLogger(__name__)

# Faces kept per session with a snapshot and an audit event while the matcher is away (at 5 frames a second
# a face check sends ~100 frames). Every other new face is kept too, as its probe only: no code is offered
# while any of them awaits naming, so a face must never be dropped unnamed.
DEFERRALS_PER_SESSION = 3
# Two probes this close are one face (well inside the match threshold of 0.6): kept once per session.
_SAME_FACE_DISTANCE = 0.3


def session_naming_defer(
    *, session: KioskSession, verdict: FrameVerdict, snapshot: bytes | None, now: datetime
) -> DeferredNaming | None:
    """Keep a frame the matcher could not name (inside the frame's transaction, session row locked)."""
    if not verdict.naming_pending or verdict.probe is None:
        return None
    pending = list(
        session.deferred_namings.filter(outcome=DeferredNaming.Outcome.PENDING).values_list(
            "probe", flat=True
        )
    )
    kept = [face.probe_unpack(text) for text in pending]
    deferral = None
    # Several faces: one probe per face. Every face is kept until named (no code is offered meanwhile), except
    # one already kept for this session: frames of the same face add nothing to name.
    for probe in np.asarray(verdict.probe, dtype=np.float32).reshape(-1, ENCODING_SIZE):
        if any(float(np.linalg.norm(probe - other)) <= _SAME_FACE_DISTANCE for other in kept):
            continue
        kept.append(probe)
        deferral = _deferral_keep(session, verdict=verdict, probe=probe, now=now)
        # The snapshot and its audit event for the first few faces; the rest are named all the same.
        if len(kept) <= DEFERRALS_PER_SESSION:
            session_audit(
                session,
                kind=AuditEvent.Kind.FACE_NAMING_DEFERRED,
                outcome=AuditEvent.Outcome.INFO,
                data={"deferred_naming_id": deferral.pk, "distance": verdict.distance},
                snapshot=snapshot,
            )
    return deferral


def _deferral_keep(
    session: KioskSession, *, verdict: FrameVerdict, probe: np.ndarray, now: datetime
) -> DeferredNaming:
    """One face's probe kept encrypted, its naming queued once the frame's transaction commits."""
    deferral = DeferredNaming.objects.create(
        session=session, probe=face.probe_pack(probe), created_at=now, pad_score=verdict.pad_score
    )
    from ..tasks import deferred_naming_resolve_task

    deferral_id = deferral.pk
    transaction.on_commit(lambda: deferred_naming_resolve_task.delay(deferral_id))
    return deferral


def deferred_naming_resolve(*, deferral_id: int) -> str:
    """Ask the matcher about a kept frame and apply the mismatch rule late if it names another customer.

    Raises biometrics.matcher.MatcherUnavailable when the matcher still cannot answer (the task retries).
    Idempotent: a named deferral is left alone.
    """
    deferral = (
        DeferredNaming.objects.select_related("session__card__customer", "session__kiosk")
        .filter(pk=deferral_id)
        .first()
    )
    if deferral is None or deferral.outcome != DeferredNaming.Outcome.PENDING:
        return deferral.outcome if deferral else "missing"
    owner_id = deferral.session.owner_customer_id
    nearest = face.nearest_other_customer(
        probe_text=deferral.probe, customer_id=owner_id, deadline_s=settings.MATCHER_NAMING_DEADLINE_S
    )
    named = nearest.names_someone()
    if not named and not nearest.complete:
        from biometrics.matcher import MatcherUnavailable

        raise MatcherUnavailable(nearest)
    with transaction.atomic():
        # Session, then its deferral; card_mismatch_record then takes the card's counters and the card.
        session = session_lock(deferral.session)
        deferral = deferred_naming_lock(deferral_id)
        if deferral.outcome != DeferredNaming.Outcome.PENDING:
            return deferral.outcome
        now = timezone.now()
        deferral.named_at, deferral.probe = now, ""  # the encoding is not kept once named
        deferral.outcome = DeferredNaming.Outcome.MISMATCH if named else DeferredNaming.Outcome.NO_MATCH
        deferral.other_customer_id = nearest.customer_id if named else None
        deferral.distance = nearest.distance if named else None
        deferral.save(update_fields=["named_at", "probe", "outcome", "other_customer_id", "distance"])
        data: dict[str, Any] = {
            "deferred_naming_id": deferral.pk,
            "deferred_at": deferral.created_at.isoformat(),
            "result": deferral.outcome,
        }
        if not named:
            session_audit(
                session,
                kind=AuditEvent.Kind.FACE_NAMING_COMPLETED,
                outcome=AuditEvent.Outcome.INFO,
                data=data,
            )
            return deferral.outcome
        data.update(
            _mismatch_apply_late(session, now=now, live=card_security.mismatch_pad_passed(deferral.pad_score))
        )
        data.update({"other_customer_id": nearest.customer_id, "distance": nearest.distance})
        session_audit(
            session, kind=AuditEvent.Kind.FACE_NAMING_COMPLETED, outcome=AuditEvent.Outcome.FAILURE, data=data
        )
        return deferral.outcome


def _mismatch_apply_late(session: KioskSession, *, now: datetime, live: bool) -> dict[str, Any]:
    """The mismatch rule for a session that went on as a no-match, applied late: what `_mismatch_seen` records
    at once (no code; the evidence, counted per card if the frame was live), plus what the late answer makes
    necessary — any unused code of the session is voided and a session already past the face check ends. A
    session still at the face check or its failure goes on exactly as a stranger's (its code request gets a
    stranger's answer and no code), so the late naming tells the kiosk nothing."""
    state_before = session.state
    voided = OtpCode.objects.filter(session=session, used_at__isnull=True, voided_at__isnull=True).update(
        voided_at=now
    )
    blocked = False
    if not session.mismatch_seen:
        session.mismatch_seen = True
        session.save(update_fields=["mismatch_seen"])
    # A card reported stolen since must stay "stolen": blocking it again would downgrade it. A typed phone
    # number (card-less) is not a credential that can be blocked.
    card = None if session.is_cardless else session.claimed_card
    stolen = card is not None and Card.objects.filter(pk=card.pk, status=Card.Status.STOLEN).exists()
    if live and not session.mismatch_counted and card is not None and not stolen:
        blocked = card_security.card_mismatch_count(session)
    at_face_check = state_before in (State.CARD_ENTERED, State.FACE_PENDING, State.FACE_FAILED)
    if session.is_open and (blocked or not at_face_check):
        reason = KioskSession.EndReason.CARD_BLOCKED if blocked else KioskSession.EndReason.MISMATCH
        session_close(session, reason=reason, now=now)
    return {
        "state_before": state_before,
        "verified_by": session.verified_by,
        "session_ended": state_before != session.state,
        "otp_voided": voided,
        "card_blocked": blocked,
    }


def deferred_namings_sweep(*, older_than_s: int = 60) -> int:
    """Name what the per-deferral tasks could not (the broker was down when they were queued). Stops at the
    first the matcher still cannot answer. Returns how many were named."""
    from biometrics.matcher import MatcherUnavailable

    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    named = 0
    pending = DeferredNaming.objects.filter(outcome=DeferredNaming.Outcome.PENDING, created_at__lt=cutoff)
    for deferral_id in pending.values_list("id", flat=True)[:500]:
        try:
            deferred_naming_resolve(deferral_id=deferral_id)
        except MatcherUnavailable as error:
            logger.warning("deferred naming sweep stopped: %s", error)
            break
        named += 1
    return named
