"""Start-up checks: with PAD on, the portal does not start without its intact models (never a silent pass)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning

from biometrics.pad_models import pad_models_problems


def pad_models_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.PAD_ENABLED:
        return []
    messages: list[CheckMessage] = [
        Error(
            problem,
            hint="Restore biometrics/models/ from the release, fix PAD_MODELS, or set PAD_ENABLED=false.",
            id="biometrics.E001",
        )
        for problem in pad_models_problems(settings.PAD_MODELS)
    ]
    if not 0.0 < settings.PAD_THRESHOLD < 1.0:
        messages.append(
            Error(
                f"PAD_THRESHOLD must be between 0 and 1, not {settings.PAD_THRESHOLD}", id="biometrics.E002"
            )
        )
    if not settings.LIVENESS_ENABLED:
        messages.append(
            Warning(
                "PAD_ENABLED has no effect with LIVENESS_ENABLED off (PAD is fused with the challenge).",
                id="biometrics.W001",
            )
        )
    return messages
