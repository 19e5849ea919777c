"""Banking settings: the bank's name, money bounds, currencies and account numbers."""

from __future__ import annotations

from decimal import Decimal

from .environment import env

BANK_NAME = env.str("BANK_NAME", default="Demo Bank")
# Days a login created or re-roled by a member of staff cannot decide that person's four-eyes requests.
STAFF_GRANT_COOLING_DAYS = env.int("STAFF_GRANT_COOLING_DAYS", default=30)
CARD_BIN = env.str("CARD_BIN", default="400000")
# Largest balance an account may reach and largest single ledger amount; both must stay below what the money
# columns hold (999,999,999,999.99, checked at start-up and by database CHECK constraints).
ACCOUNT_MAX_BALANCE = Decimal(env.str("ACCOUNT_MAX_BALANCE", default="1000000000.00"))
ACCOUNT_MAX_TRANSACTION = Decimal(env.str("ACCOUNT_MAX_TRANSACTION", default="100000.00"))
# Currencies a teller may open an account in (ISO 4217 codes, the first is the default).
BANK_CURRENCIES = env.list("BANK_CURRENCIES", default=["EUR", "USD", "GBP"])
# New account numbers: this prefix, then 16 random digits in groups of four.
ACCOUNT_NUMBER_PREFIX = env.str("ACCOUNT_NUMBER_PREFIX", default="DE00")
