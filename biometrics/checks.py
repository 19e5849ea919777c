"""Start-up checks: the model files a configured check needs are present and intact (never a silent pass).

Production (DEBUG off) does not start without them (Error). ``make run`` (DEBUG on) serves with that check
off and says so plainly (Warning), so a laptop without ``../shared/models`` still runs the portal.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from biometrics.model_files import clear_cache, feature_problems
from biometrics.pad_models import pad_models_problems

_OFF_IN_DEBUG = {
    "pad": "presentation-attack detection (PAD) is OFF",
    "face_model": "the second face model (YuNet + face-reid-0095) is OFF: faces are compared by dlib alone",
}
_HINT = "Put the files under ATM_MODELS_DIR ({dir}), see biometrics/model_files.py, or set {flag}=false."


def pad_models_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    clear_cache()  # a check run re-reads the files (tests change them; start-up is once)
    messages: list[CheckMessage] = []
    if settings.PAD_ENABLED:
        unknown = [p for p in pad_models_problems(settings.PAD_MODELS) if p.startswith(("unknown", "no PAD"))]
        messages += [Error(problem, id="biometrics.E001") for problem in unknown]
        messages += _feature_messages("pad", "PAD_ENABLED")
        if not 0.0 < settings.PAD_THRESHOLD < 1.0:
            messages.append(
                Error(
                    f"PAD_THRESHOLD must be between 0 and 1, not {settings.PAD_THRESHOLD}",
                    id="biometrics.E002",
                )
            )
        if not settings.LIVENESS_ENABLED:
            messages.append(
                Warning(
                    "PAD_ENABLED has no effect with LIVENESS_ENABLED off (PAD is fused with the challenge).",
                    id="biometrics.W001",
                )
            )
    if settings.FACE_MODEL_ENABLED:
        messages += _feature_messages("face_model", "FACE_MODEL_ENABLED")
    return messages


def _feature_messages(feature: str, flag: str) -> list[CheckMessage]:
    problems = feature_problems(feature)
    if not problems:
        return []
    hint = _HINT.format(dir=settings.ATM_MODELS_DIR, flag=flag)
    if settings.DEBUG:
        text = f"DEBUG: {_OFF_IN_DEBUG[feature]} -- " + "; ".join(problems)
        return [Warning(text, hint=hint, id="biometrics.W002")]
    return [Error(problem, hint=hint, id="biometrics.E001") for problem in problems]
