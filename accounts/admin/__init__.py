"""The accounts admin, one module per model group; importing them registers the pages."""

from . import bank_accounts, cards, customers, ledger, staff

__all__ = ["bank_accounts", "cards", "customers", "ledger", "staff"]
