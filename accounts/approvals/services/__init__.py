"""Maker-checker writes: propose, approve, reject, cancel.

One member of staff proposes; nothing changes until a *different* one holding
`accounts.approve_changerequest` approves. Approval locks the request and its target, re-validates what the
proposer saw (`baseline`) and applies the change through the domain's own service, all in one transaction
with the audit events. Phones are masked to the last four digits and card numbers are never held in clear
(a pending card issue stores the keyed HMAC and the last four digits only).

One module per kind of change (its proposal and what approving it does), `common` for what they share and
`decisions` for approving, rejecting and cancelling. Callers import from `accounts.approvals.services`.
"""

from .accounts import account_close_propose
from .cardless import cardless_opt_in_propose, cardless_reset_propose
from .cards import card_issue_check, card_issue_propose, card_replace_check, card_replace_propose
from .common import APPROVE_PERMISSION, change_request_values
from .decisions import change_request_approve, change_request_cancel, change_request_reject
from .faces import (
    biometrics_erase_propose,
    biometrics_revoke_propose,
    face_reenrol_propose,
    face_reenrol_settle,
)
from .limits import LIMIT_MAX, limit_change_propose, limit_parse
from .phones import phone_change_propose
from .staff import staff_grant_propose, staff_grant_state, staff_recently_granted_by

__all__ = [
    "APPROVE_PERMISSION",
    "LIMIT_MAX",
    "account_close_propose",
    "biometrics_erase_propose",
    "biometrics_revoke_propose",
    "card_issue_check",
    "card_issue_propose",
    "card_replace_check",
    "card_replace_propose",
    "cardless_opt_in_propose",
    "cardless_reset_propose",
    "change_request_approve",
    "change_request_cancel",
    "change_request_reject",
    "change_request_values",
    "face_reenrol_propose",
    "face_reenrol_settle",
    "limit_change_propose",
    "limit_parse",
    "phone_change_propose",
    "staff_grant_propose",
    "staff_grant_state",
    "staff_recently_granted_by",
]
