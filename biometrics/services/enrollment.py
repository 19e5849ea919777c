"""Branch enrolment: consent, capture with per-shot feedback, submit, background encoding, review.

The public entry points, gathered from the three modules that implement them: `enrolment_capture` (consent,
start, shots, clips, submit), `enrolment_encoding` (the task's encoding and the decision that follows) and
`enrolment_review` (a second member of staff settles a flagged enrolment). Callers import from here.
`_enrolment_finish` is exported for the tests that finish an enrolment built without the engine.
"""

from __future__ import annotations

from biometrics.services.enrolment_capture import (
    PhotoFeedback,
    customer_consent_record,
    enrolment_clip_add,
    enrolment_photo_add,
    enrolment_start,
    enrolment_submit,
)
from biometrics.services.enrolment_encoding import (
    _enrolment_finish,
    enrolment_activate,
    enrolment_encode,
)
from biometrics.services.enrolment_review import enrolment_review

__all__ = [
    "PhotoFeedback",
    "_enrolment_finish",
    "customer_consent_record",
    "enrolment_activate",
    "enrolment_clip_add",
    "enrolment_encode",
    "enrolment_photo_add",
    "enrolment_review",
    "enrolment_start",
    "enrolment_submit",
]
