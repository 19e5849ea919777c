from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from atmsite.errors import ApplicationError, ErrorCode

from .errors import AccountsError
from .models import BankAccount, Card, Customer
from .phones import PhoneField

# Which field a refusal of the card checks belongs to (everything else goes to the top of the form).
_FIELD_OF_CODE: dict[ErrorCode, str] = {
    AccountsError.PAN_FORMAT: "pan",
    AccountsError.PAN_LUHN: "pan",
    AccountsError.PAN_DUPLICATE: "pan",
    AccountsError.EXPIRED: "expires_on",
    AccountsError.ACCOUNT_OWNER: "account",
    AccountsError.ACCOUNT_INACTIVE: "account",
}


class PanInput(forms.TextInput):
    """A card number field that never writes what was typed back into the page (an error page, the
    browser's form cache): the clerk types it again after a mistake."""

    def format_value(self, value: Any) -> str | None:
        return None


def _pan_field(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=23,
        widget=PanInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text=help_text,
    )


def _expiry_field() -> forms.DateField:
    return forms.DateField(
        label=_("Expires on"),
        help_text=_("Last day the card is valid, e.g. 2029-12-31."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def refusal_to_form(form: forms.BaseForm, error: ApplicationError) -> None:
    field = _FIELD_OF_CODE.get(error.code)
    form.add_error(field if field in form.fields else None, error.message)


class CardIssueForm(forms.ModelForm):
    """The clerk types the number printed on the card stock; it is hashed and never stored or shown again.

    Every refusal of the card-issue proposal is checked here first, so a mistake is a form error on the page.
    """

    pan = _pan_field(_("Card number"), _("Only the last four digits are kept."))
    expires_on = _expiry_field()

    class Meta:
        model = Card
        fields = ["customer", "account", "expires_on"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "account" in self.fields:
            customer_id = self.data.get("customer") or self.initial.get("customer")
            if isinstance(customer_id, Customer):
                customer_id = customer_id.pk
            field: Any = self.fields["account"]
            # Only the chosen customer's accounts are offered, never every customer's.
            try:
                field.queryset = BankAccount.objects.filter(customer_id=int(customer_id or 0))
            except (TypeError, ValueError):
                field.queryset = BankAccount.objects.none()
            field.help_text = _("Accounts of the customer chosen above.")
            field.error_messages["invalid_choice"] = _("Choose one of this customer's accounts.")

    def clean(self) -> dict[str, Any]:
        from .approvals.services import card_issue_check

        data = super().clean() or {}
        if self.errors:
            return data
        try:
            card_issue_check(
                customer=data["customer"],
                account=data["account"],
                pan=data["pan"],
                expires_on=data["expires_on"],
            )
        except ApplicationError as error:
            refusal_to_form(self, error)
        return data

    def _post_clean(self) -> None:
        # The card row is created only when the proposal is approved (card_register validates it then).
        pass


class CardReplaceForm(forms.Form):
    pan = _pan_field(
        _("New card number"),
        _("Only the last four digits are kept; the old card is blocked once this is approved."),
    )
    expires_on = _expiry_field()
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        from .approvals.services import card_replace_check

        data = super().clean() or {}
        if not self.errors:
            try:
                card_replace_check(pan=data["pan"], expires_on=data["expires_on"])
            except ApplicationError as error:
                refusal_to_form(self, error)
        return data


class CardBlockForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_(
            "Required; kept with the card and in the audit trail, e.g. 'Customer called: lost wallet'."
        ),
    )


class ChangeRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required: the proposer sees it."),
    )


class BankAccountForm(forms.ModelForm):
    """Staff edit of an account: the daily limit is held to the same bounds as the services."""

    class Meta:
        model = BankAccount
        fields = ["customer", "number", "currency", "daily_withdrawal_limit", "status"]

    def clean_daily_withdrawal_limit(self) -> Decimal:
        from .services import daily_limit_check

        return daily_limit_check(self.cleaned_data["daily_withdrawal_limit"])


class OnboardCustomerForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    phone = PhoneField(
        label=_("Mobile phone (WhatsApp)"),
        help_text=_("E.g. +7 916 555-12-34 or 8 (916) 555-12-34: the one-time codes go to this number."),
    )
    email = forms.EmailField(label=_("E-mail"), required=False)


class OnboardAccountForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=())
    daily_withdrawal_limit = forms.DecimalField(
        label=_("Daily withdrawal limit"), min_value=0, max_digits=14, decimal_places=2, initial="1000.00"
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from django.conf import settings

        super().__init__(*args, **kwargs)
        currency: Any = self.fields["currency"]
        currency.choices = [(code, code) for code in settings.BANK_CURRENCIES]
        currency.initial = settings.BANK_CURRENCIES[0]


class OnboardCardForm(forms.Form):
    """The card step: the same checks as the card-issue proposal, shown as form errors."""

    pan = _pan_field(_("Card number"), _("As printed on the card stock; only the last four digits are kept."))
    expires_on = _expiry_field()

    def __init__(self, *args: Any, customer: Customer, account: BankAccount, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer, self.account = customer, account

    def clean(self) -> dict[str, Any]:
        from .approvals.services import card_issue_check

        data = super().clean() or {}
        if not self.errors:
            try:
                card_issue_check(
                    customer=self.customer,
                    account=self.account,
                    pan=data["pan"],
                    expires_on=data["expires_on"],
                )
            except ApplicationError as error:
                refusal_to_form(self, error)
        return data


class CustomerAdminForm(forms.ModelForm):
    """The customer page: a phone change becomes a proposal, and the second person reads why it was asked."""

    change_reason = forms.CharField(
        label=_("Reason for a phone change"),
        max_length=300,
        required=False,
        help_text=_("Required when the phone number changes; shown to the member of staff who approves it."),
    )

    class Meta:
        model = Customer
        fields = ["full_name", "phone", "email", "preferred_language", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        changing = self.instance.pk is not None and data.get("phone") not in (None, self.instance.phone)
        if changing and not (data.get("change_reason") or "").strip():
            self.add_error("change_reason", _("Give the reason for the phone change."))
        return data


class FaceLockResetForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        help_text=_("Required; kept in the audit trail, e.g. 'Customer at the branch, passport checked'."),
    )
