"""The audit admin: importing `events` registers the audit trail page."""

from . import events

__all__ = ["events"]
