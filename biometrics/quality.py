"""When a detected face is good enough to use, and the quality figures kept with a shot or a template.

One rule for every path that takes a face: the kiosk frame check, a branch shot, a clip frame. A face smaller
than FACE_MIN_SIZE_PX (eye-to-chin, in pixels) or less sharp than FACE_MIN_SHARPNESS (variance of the
Laplacian) gives unreliable encodings, so it is refused before any encoding is computed.
"""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings

from biometrics import engine
from biometrics.verdicts import FaceProblem

# What the person in front of the camera is told of a FaceProblem: a short hint on the kiosk screen (the frame
# is simply retried; kiosk.services.frames picks it), a full sentence at the branch (the shot is refused and
# the teller takes another: BiometricsError.FACE_TOO_SMALL, FACE_BLURRED, whose values are the problem's).


class QualityFigures(TypedDict):
    face_px: int
    sharpness: float
    brightness: float


def face_problem(quality: engine.Quality) -> FaceProblem | None:
    """None if the face is usable; otherwise the first reason it is not (size before sharpness)."""
    if quality.face_px < settings.FACE_MIN_SIZE_PX:
        return FaceProblem.TOO_SMALL
    if quality.sharpness < settings.FACE_MIN_SHARPNESS:
        return FaceProblem.BLURRED
    return None


def quality_figures(quality: engine.Quality) -> QualityFigures:
    """The figures stored with an enrolment photo or a template (rounded: they are shown, not computed on)."""
    return {
        "face_px": quality.face_px,
        "sharpness": round(quality.sharpness, 1),
        "brightness": round(quality.brightness, 1),
    }
