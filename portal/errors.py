"""The customer portal's refusals: each code with its one wording (see atmsite.errors.ErrorCode)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from atmsite.errors import ErrorCode


class PortalError(ErrorCode):
    LINK_INVALID = "invalid", _("This link is not valid any more. Ask at your branch for a new one.")
    FACE_REQUEST_INVALID = "face_request_invalid", _("Choose what to ask for.")
    PASSWORD_MISMATCH = "password_mismatch", _("The two passwords differ.")
    TOTP_CODE = "totp_code", _("That code is not right. Enter the code your app shows now.")
    NOT_FOUND = "not_found", _("Not found.")
    NOT_FROZEN = "not_frozen", _("This card can only be unfrozen at a branch.")
    CODE_WRONG = "code_wrong", _("That code is not right.")
    COOLING_OFF = "cooling_off", _("The card cannot be unfrozen yet.")
    NOTE_LONG = "note_long", _("Keep the note under 500 characters.")
    FRAUD_STATE = "fraud_state", _("This case is closed or the state is unknown.")
    FRAUD_RESOLUTION = "fraud_resolution", _("Say what was found before closing the case.")
