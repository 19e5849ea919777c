from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from .models import BankAccount, Card
from .pan import pan_validate


class CardIssueForm(forms.ModelForm):
    """The clerk types the number printed on the card stock; it is hashed and never stored or shown again."""

    pan = forms.CharField(
        label="Card number",
        max_length=23,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text="Only the last four digits are kept.",
    )

    class Meta:
        model = Card
        fields = ["customer", "account", "expires_on"]

    def clean_pan(self) -> str:
        try:
            return pan_validate(self.cleaned_data["pan"])
        except ValidationError as error:
            raise ValidationError(error.messages[0]) from None


class CardReplaceForm(forms.Form):
    pan = forms.CharField(
        label="New card number",
        max_length=23,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        help_text="Only the last four digits are kept; the old card is blocked once this is approved.",
    )
    expires_on = forms.DateField(label="Expires on", help_text="YYYY-MM-DD")
    reason = forms.CharField(max_length=200, required=False)

    def clean_pan(self) -> str:
        try:
            return pan_validate(self.cleaned_data["pan"])
        except ValidationError as error:
            raise ValidationError(error.messages[0]) from None


class ChangeRejectForm(forms.Form):
    reason = forms.CharField(
        max_length=300, widget=forms.Textarea(attrs={"rows": 3}), help_text="Required: the proposer sees it."
    )


class BankAccountForm(forms.ModelForm):
    """Staff edit of an account: the daily limit is held to the same bounds as the services."""

    class Meta:
        model = BankAccount
        fields = ["customer", "number", "currency", "daily_withdrawal_limit", "status"]

    def clean_daily_withdrawal_limit(self) -> Decimal:
        from .services import daily_limit_check

        return daily_limit_check(self.cleaned_data["daily_withdrawal_limit"])
