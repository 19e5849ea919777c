"""Row locks of the kiosk app: every `select_for_update` in kiosk/ goes through here, in one order.

The lock order (a transaction takes any subset of these, always top to bottom, so two transactions never
wait on each other in a cycle):

    1. kiosk                Kiosk: one session at a time per kiosk, and every change to its cash.
                            Cassettes, the cash-in bin, cash counts, credentials and provisioning codes
                            change only under it, so they have no lock of their own before it.
    2. the kiosk's rows     KioskProvisioningCode, CashInDevice, CashCount (under the kiosk lock)
    3. session              KioskSession
    4. the session's rows   DeferredNaming, OtpCode (under the session lock); DepositEscrow changes
                            only under the session lock, so it has no lock of its own
    5. card security        CardSecurity (the card's counters)
    6. card                 accounts.Card
    7. customer             accounts.Customer
    8. account              accounts.BankAccount (the ledger lock: withdrawals and deposits post under it)
    9. card-less access     CardlessAccess (the branch's four-eyes approval holds the customer and the
                            account first; the kiosk takes it under the session lock and no account after)
   10. audit chain head     taken last, by audit.services.audit_event_record

accounts (which may not import kiosk) locks CardSecurity and CardlessAccess in its card and four-eyes
services itself, in this same order.

Call every function inside transaction.atomic. A function that is handed a row returns a fresh copy read
under the lock; callers use that copy, not the one they passed.
"""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import BankAccount, Card, Customer

from .models import (
    CardlessAccess,
    CardSecurity,
    CashCount,
    CashInDevice,
    DeferredNaming,
    Kiosk,
    KioskProvisioningCode,
    KioskSession,
    OtpCode,
)

# 1. kiosk --------------------------------------------------------------------------------------------------


def kiosk_lock(kiosk: Kiosk | int) -> Kiosk:
    """The kiosk row, locked: first in the order."""
    return Kiosk.objects.select_for_update().get(pk=kiosk if isinstance(kiosk, int) else kiosk.pk)


# 2. the kiosk's rows (under the kiosk lock) ----------------------------------------------------------------


def kiosk_provisioning_code_lock(code_id: int) -> KioskProvisioningCode:
    return KioskProvisioningCode.objects.select_for_update().get(pk=code_id)


def cash_in_device_lock(device: CashInDevice) -> CashInDevice:
    return CashInDevice.objects.select_for_update().get(pk=device.pk)


def cash_count_pending_lock(*, kiosk: Kiosk, kind: str) -> CashCount | None:
    """The kiosk's pending count of this kind (at most one), locked, or None."""
    return CashCount.objects.select_for_update().filter(kiosk=kiosk, kind=kind, status="pending").first()


# 3. session -------------------------------------------------------------------------------------------------


def session_lock(session: KioskSession) -> KioskSession:
    """Re-read the session under a row lock."""
    locked = KioskSession.objects.select_for_update().get(pk=session.pk)
    # Related rows are read, not locked: the card and account are locked by the services that change them.
    locked.card = session.card
    locked.kiosk = session.kiosk
    return locked


def sessions_open_lock(kiosk: Kiosk) -> QuerySet[KioskSession]:
    """The kiosk's open sessions, locked when evaluated (under the kiosk lock, to close them)."""
    return KioskSession.objects.select_for_update().filter(kiosk=kiosk, state__in=KioskSession.OPEN_STATES)


# 4. the session's rows (under the session lock) -------------------------------------------------------------


def deferred_naming_lock(deferral_id: int) -> DeferredNaming:
    return DeferredNaming.objects.select_for_update().get(pk=deferral_id)


def otp_code_live_lock(session: KioskSession) -> OtpCode | None:
    """The session's latest code not used or voided, locked, or None."""
    return (
        OtpCode.objects.select_for_update()
        .filter(session=session, used_at__isnull=True, voided_at__isnull=True)
        .order_by("-created_at")
        .first()
    )


# 5. card security -------------------------------------------------------------------------------------------


def card_security_lock(*, card: Card) -> CardSecurity:
    """The card's counters row, created on first use and locked (before the card)."""
    CardSecurity.objects.get_or_create(card=card)
    return CardSecurity.objects.select_for_update().get(card=card)


def card_security_find_lock(*, card: Card) -> CardSecurity | None:
    """The card's counters row, locked, or None if the card never had one (nothing created)."""
    return CardSecurity.objects.select_for_update().filter(card=card).first()


# 6. card ----------------------------------------------------------------------------------------------------


def card_lock(card: Card) -> Card:
    """The card with its customer and account, all three rows locked (PostgreSQL locks the joined rows):
    the card, then its customer and account, as the order has them."""
    return Card.objects.select_for_update().select_related("customer", "account").get(pk=card.pk)


# 7. customer ------------------------------------------------------------------------------------------------


def customer_lock(customer: Customer) -> Customer:
    return Customer.objects.select_for_update().get(pk=customer.pk)


# 8. account -------------------------------------------------------------------------------------------------


def account_lock(account_id: int) -> BankAccount:
    """The account row, the ledger's lock (accounts.services takes the same one to post)."""
    return BankAccount.objects.select_for_update().get(pk=account_id)


# 9. card-less access ----------------------------------------------------------------------------------------


def cardless_access_lock(access: CardlessAccess) -> CardlessAccess:
    """The access row with its customer and account read along (and locked with it)."""
    return CardlessAccess.objects.select_for_update().select_related("customer", "account").get(pk=access.pk)


def cardless_access_of_lock(*, customer_id: int) -> CardlessAccess:
    """The customer's access row, locked (CardlessAccess.DoesNotExist if they never opted in)."""
    return CardlessAccess.objects.select_for_update().get(customer_id=customer_id)


def cardless_access_find_lock(*, customer_id: int, active_only: bool = False) -> CardlessAccess | None:
    """The customer's access row, locked, or None (only an active one, its customer read along, with
    `active_only`)."""
    rows = CardlessAccess.objects.select_for_update().filter(customer_id=customer_id)
    if active_only:
        rows = rows.select_related("customer").filter(status=CardlessAccess.Status.ACTIVE)
    return rows.first()


def cardless_access_many_lock(ids: list[int]) -> QuerySet[CardlessAccess]:
    """Several access rows, locked when evaluated (in id order, so two such batches never cross)."""
    return CardlessAccess.objects.select_for_update().filter(pk__in=ids).order_by("pk")
