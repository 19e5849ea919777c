"""Writes for customers, accounts, cards and the ledger. Money moves only in `ledger`, under a row lock.

Callers import from `accounts.services`; the modules split the writes by what they change.
"""

from .bank_accounts import (
    account_close,
    account_close_check,
    account_limit_change,
    account_number_new,
    account_open,
    account_status_change,
    daily_limit_check,
)
from .cards import card_block, card_face_lock_reset, card_issue, card_register, card_unblock
from .customers import (
    customer_active_set,
    customer_create,
    customer_details_update,
    customer_phone_change,
    phone_change_notice_body,
)
from .ledger import (
    CENT,
    deposit_create,
    idempotency_key_check,
    ledger_entry_replayed,
    ledger_post,
    money_parse,
    withdrawal_create,
)

__all__ = [
    "CENT",
    "account_close",
    "account_close_check",
    "account_limit_change",
    "account_number_new",
    "account_open",
    "account_status_change",
    "card_block",
    "card_face_lock_reset",
    "card_issue",
    "card_register",
    "card_unblock",
    "customer_active_set",
    "customer_create",
    "customer_details_update",
    "customer_phone_change",
    "daily_limit_check",
    "deposit_create",
    "idempotency_key_check",
    "ledger_entry_replayed",
    "ledger_post",
    "money_parse",
    "phone_change_notice_body",
    "withdrawal_create",
]
