"""The kiosk's only doors into biometrics and audit extras, imported lazily.

Tests replace these functions with monkeypatch (`kiosk.services.face.frame_verify`), so the state machine is
tested without the face engine. The biometrics app (and the dlib models behind it) load on first use.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

import numpy as np
from django.conf import settings

from atmsite.errors import ApplicationError


def image_decode(data: bytes) -> np.ndarray:
    """JPEG/PNG/WebP bytes → RGB array, or a 400 with the engine's reason."""
    from biometrics import engine

    max_pixels = min(settings.IMAGE_MAX_PIXELS, settings.KIOSK_FRAME_MAX_PIXELS)
    try:
        return engine.decode_image(data, max_pixels=max_pixels)
    except engine.ImageRejected as error:
        raise ApplicationError(error.message, code=f"frame_{error.code}", status_code=400) from None


def frame_verify(*, customer_id: int, image: np.ndarray) -> Any:
    """biometrics.services.verification.frame_verify → FrameVerdict (see the app contract)."""
    from biometrics.services.verification import frame_verify as verify

    return verify(customer_id=customer_id, image=image)


def customer_has_active_templates(*, customer_id: int) -> bool:
    try:
        from biometrics.services.verification import customer_has_active_templates as has_templates
    except ImportError:
        from biometrics.selectors import customer_has_active_templates as has_templates
    return bool(has_templates(customer_id=customer_id))


def liveness_step(*, state: dict[str, Any], landmarks: Any) -> tuple[dict[str, Any], bool]:
    """Integration hook for biometrics.liveness: (new state, passed so far).

    Runs only with settings.LIVENESS_ENABLED and when biometrics.liveness provides
    `liveness_step(*, state: dict, landmarks) -> tuple[dict, bool]` (state = LivenessState.to_dict()).
    Without it the K-consecutive-frames rule alone decides.
    """
    if not settings.LIVENESS_ENABLED or landmarks is None:
        return state, True
    try:
        from biometrics import liveness
    except ImportError:
        return state, True
    step = getattr(liveness, "liveness_step", None)
    if step is None:
        return state, True
    new_state, passed = step(state=state, landmarks=landmarks)
    return dict(new_state), bool(passed)


@cache
def audit_supports_snapshot() -> bool:
    """The audit helper adds `snapshot=` to audit_event_record; pass it only once it exists."""
    from audit.services import audit_event_record

    return "snapshot" in inspect.signature(audit_event_record).parameters
