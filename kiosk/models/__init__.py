"""Models of the kiosk app, one module per concern; every model is importable from kiosk.models."""

from .cards import CardlessAccess, CardSecurity
from .cash import CashCount, CashInBin, CashInDeposit, CashInDevice, CashInReconciliation
from .kiosks import Cassette, Kiosk, KioskCredential, KioskProvisioningCode
from .sessions import DeferredNaming, KioskSession, OtpCode

__all__ = [
    "CardSecurity",
    "CardlessAccess",
    "CashCount",
    "CashInBin",
    "CashInDeposit",
    "CashInDevice",
    "CashInReconciliation",
    "Cassette",
    "DeferredNaming",
    "Kiosk",
    "KioskCredential",
    "KioskProvisioningCode",
    "KioskSession",
    "OtpCode",
]
