"""Presentation-attack detection (liveness) from 68-point landmarks only: pure numpy, no model files.

The kiosk asks for a random challenge (turn left, turn right, blink) and feeds every frame's landmarks
(``engine.detect_faces(..., purpose="live")``) into :func:`liveness_update`; :func:`liveness_verdict` says
passed / pending / failed. ``tracking`` measures frames (eye aspect ratios, plane + parallax between two
frames, face-track continuity), ``challenges`` turns the measurements into evidence for the asked action,
``verdict`` decides, ``update`` folds one frame into the state. Head pose comes from ``biometrics.pose``.
How it works, what it cannot see, and how the thresholds were tuned: docs/liveness.md.
"""

from biometrics.liveness.challenges import Challenge
from biometrics.liveness.state import (
    CHALLENGE_TIME_LIMIT_SECONDS,
    LivenessConfig,
    LivenessState,
    liveness_start,
)
from biometrics.liveness.tracking import (
    RIGID_POINTS,
    Parallax,
    eye_aspect_ratio,
    frame_fingerprint,
    parallax_between,
    planar_motion_score,
)
from biometrics.liveness.update import liveness_same_track, liveness_update
from biometrics.liveness.verdict import (
    Verdict,
    VerdictReason,
    VerdictStatus,
    liveness_verdict,
    pad_aggregate,
)
from biometrics.pose import FACE_MODEL_3D, head_yaw

__all__ = [
    "CHALLENGE_TIME_LIMIT_SECONDS",
    "FACE_MODEL_3D",
    "RIGID_POINTS",
    "Challenge",
    "LivenessConfig",
    "LivenessState",
    "Parallax",
    "Verdict",
    "VerdictReason",
    "VerdictStatus",
    "eye_aspect_ratio",
    "frame_fingerprint",
    "head_yaw",
    "liveness_same_track",
    "liveness_start",
    "liveness_update",
    "liveness_verdict",
    "pad_aggregate",
    "parallax_between",
    "planar_motion_score",
]
