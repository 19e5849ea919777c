"""Models of the kiosk app, one module per concern; every model is importable from kiosk.models."""

from .cards import CardlessAccess, CardSecurity
from .cash import CashCount, CashInBin, CashInDeposit, CashInDevice, CashInReconciliation
from .deposits import DepositEscrow
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
    "DepositEscrow",
    "Kiosk",
    "KioskCredential",
    "KioskProvisioningCode",
    "KioskSession",
    "OtpCode",
]
