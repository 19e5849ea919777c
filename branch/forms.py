from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.phones import PhoneField


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or phone"), max_length=100, required=False)


class CustomerCreateForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    phone = PhoneField(label=_("Mobile phone (WhatsApp)"), help_text=_("International form, +44…"))
    email = forms.EmailField(label=_("Email"), required=False)
    consent = forms.BooleanField(
        label=_("The customer consents to face verification at our ATMs"),
        required=False,
        help_text=_("Read the biometric privacy notice to the customer before ticking this box."),
    )


class EnrolmentStartForm(forms.Form):
    consent = forms.BooleanField(
        label=_("The customer consents to face verification at our ATMs"),
        required=True,
        error_messages={"required": _("Face enrolment needs the customer's consent.")},
    )

    def __init__(self, *args: Any, consent_on_file: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.consent_on_file = consent_on_file
        if consent_on_file:
            del self.fields["consent"]
