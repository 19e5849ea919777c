"""System checks: the audit keys are usable before the first event or verification needs them."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured


@register()
def audit_keys_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from .chain import chain_key_current
    from .checkpoints import sink_configured, witness_public_keys

    errors: list[CheckMessage] = []
    for check, check_id in (
        (chain_key_current, "audit.E001"),
        (witness_public_keys, "audit.E002"),
        (sink_configured, "audit.E003"),
    ):
        try:
            check()
        except ImproperlyConfigured as error:
            errors.append(Error(str(error), id=check_id))
    return errors
