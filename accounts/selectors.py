"""Reads for customers, cards and the ledger."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from atmsite.errors import ApplicationError

from .errors import AccountsError
from .models import BankAccount, Card, Customer, Transaction
from .pan import luhn_valid, pan_hash, pan_validate


def card_get_by_pan(*, pan: str) -> Card:
    """The card for a typed or read PAN; unknown numbers and invalid ones get the same kind of refusal."""
    from django.core.exceptions import ValidationError

    try:
        digits = pan_validate(pan)
    except ValidationError as error:
        raise ApplicationError(AccountsError.CARD_INVALID, error.messages[0]) from None
    card = Card.objects.select_related("customer", "account").filter(pan_hmac=pan_hash(digits)).first()
    if card is None:
        raise ApplicationError(AccountsError.CARD_UNKNOWN, status_code=404)
    return card


def account_withdrawn_today(*, account: BankAccount) -> Decimal:
    """Withdrawn since midnight in the bank's time zone (TIME_ZONE): what the daily limit counts."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    total = account.transactions.filter(kind=Transaction.Kind.WITHDRAWAL, created_at__gte=start).aggregate(
        total=Sum("amount")
    )["total"]
    return total or Decimal("0")


def transactions_recent(*, account: BankAccount, limit: int = 10) -> QuerySet[Transaction]:
    return account.transactions.select_related("kiosk").order_by("-created_at", "-id")[:limit]


def account_deposits_today(*, account: BankAccount) -> int:
    """Deposits credited since midnight in the bank's time zone: what the daily deposit count limits."""
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return account.transactions.filter(kind=Transaction.Kind.DEPOSIT, created_at__gte=start).count()


_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")


@dataclass(frozen=True)
class StaffSearch:
    """What a clerk's search box term means, decided once for every staff screen.

    - a whole card number (12-19 digits passing Luhn, spaces allowed) → that card, by its keyed hash;
    - exactly four digits → the last four digits of a card (never phone digits: "0010" is a card);
    - a phone in any usual form ("+1 202 555 0101", "(202) 555-0101", 5+ digits) → phone digits;
    - anything else → name or e-mail.
    """

    kind: str  # "card", "last4", "phone", "text" or "empty"
    value: str

    @property
    def label(self) -> str:
        return str(
            {
                "card": _("full card number"),
                "last4": _("last 4 digits of a card"),
                "phone": _("phone number"),
                "text": _("name or e-mail"),
                "empty": "",
            }[self.kind]
        )


def _phone_digits(term: str) -> str:
    """A whole number in a national form ("8 (916) 555-12-34") searched as its E.164 digits."""
    from django.core.exceptions import ValidationError

    from .phones import phone_e164

    try:
        return phone_e164(term).removeprefix("+")
    except ValidationError:
        return ""


def staff_search_parse(term: str) -> StaffSearch:
    term = (term or "").strip()[:100]
    if not term:
        return StaffSearch("empty", "")
    compact = _PHONE_PUNCTUATION.sub("", term)
    if compact.isdigit() and 12 <= len(compact) <= 19 and luhn_valid(compact):
        return StaffSearch("card", pan_hash(compact))
    if compact.isdigit() and len(compact) == 4:
        return StaffSearch("last4", compact)
    phone = compact.removeprefix("+")
    if phone.isdigit() and len(phone) >= 5:
        # A whole national number with a trunk prefix ("8 (916) 555-12-34", "07700 900123") matches its
        # stored E.164 digits; anything else (international, or a part of a number) matches as typed.
        national = phone[0] in "08" and len(phone) >= 10 and not compact.startswith("+")
        return StaffSearch("phone", (_phone_digits(term) if national else "") or phone)
    return StaffSearch("text", term)


# The lookups each kind of search term runs, for customers and for cards. Phones are stored in E.164 (+ and
# digits): a national number matches as a contained run of digits.
_CUSTOMER_LOOKUPS = {
    "card": ["cards__pan_hmac"],
    "last4": ["cards__last4"],
    "phone": ["phone__contains"],
    "text": ["full_name__icontains", "email__icontains"],
}
_CARD_LOOKUPS = {
    "card": ["pan_hmac"],
    "last4": ["last4"],
    "phone": ["customer__phone__contains"],
    "text": ["customer__full_name__icontains"],
}


def _search_filter(search: StaffSearch, lookups: dict[str, list[str]]) -> Q:
    condition = Q()
    for lookup in lookups.get(search.kind, []):
        condition |= Q(**{lookup: search.value})
    return condition


def customer_search_filter(search: StaffSearch) -> Q:
    return _search_filter(search, _CUSTOMER_LOOKUPS)


def card_search_filter(search: StaffSearch) -> Q:
    return _search_filter(search, _CARD_LOOKUPS)


def customers_find(*, term: str, limit: int | None = None) -> QuerySet[Customer]:
    search = staff_search_parse(term)
    customers = Customer.objects.filter(customer_search_filter(search)).distinct().order_by("full_name")
    return customers[:limit] if limit else customers


def customers_with_phone(*, phone: str, exclude_id: int | None = None) -> QuerySet[Customer]:
    """Other customers already using this phone: one-time codes for both would go to one person."""
    others = Customer.objects.filter(phone=(phone or "").strip())
    return others.exclude(pk=exclude_id) if exclude_id is not None else others
