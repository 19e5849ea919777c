"""The audit app's refusals: each code with its one wording (see atmsite.errors.ErrorCode)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from atmsite.errors import ErrorCode


class AuditError(ErrorCode):
    NOTE_REQUIRED = (
        "note_required",
        _("Write what you checked in the note: a mark without a note is not saved."),
    )
    PURGED = "purged", _("This snapshot was purged after its retention period.")
    STATUS = "status", _("A snapshot can be marked reviewed or fraud suspected.")
    NOTE_TOO_LONG = "note", _("The note is longer than 300 characters.")
