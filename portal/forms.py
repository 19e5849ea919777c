"""Portal forms: every field bounded, every refusal a message on the form (never a 500)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import MONEY_CEILING


class SignInForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile phone number"),
        max_length=24,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("One-time code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ActivateForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_repeat = forms.CharField(
        label=_("New password again"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class TransactionSearchForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    amount_min = forms.DecimalField(
        label=_("Amount from"),
        required=False,
        min_value=Decimal("0"),
        max_value=MONEY_CEILING,
        max_digits=14,
        decimal_places=2,
    )
    amount_max = forms.DecimalField(
        label=_("Amount to"),
        required=False,
        min_value=Decimal("0"),
        max_value=MONEY_CEILING,
        max_digits=14,
        decimal_places=2,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        low, high = data.get("amount_min"), data.get("amount_max")
        if low is not None and high is not None and low > high:
            raise forms.ValidationError(_("The smallest amount is larger than the largest."))
        return data


class NotificationsForm(forms.Form):
    withdrawals = forms.BooleanField(label=_("A WhatsApp message for every withdrawal"), required=False)
    face_failures = forms.BooleanField(
        label=_("A WhatsApp message for every failed face check with my cards"), required=False
    )


class NotMeForm(forms.Form):
    note = forms.CharField(
        label=_("What happened? (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
