"""The biometric consent customers agree to at enrolment, as the portal shows it (text and version)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CONSENT_TEXT = _(
    "I agree that the bank keeps a mathematical template of my face, made from photos taken at the branch, "
    "and compares it with the camera picture at its cash machines to confirm it is me. The photos and the "
    "template are stored encrypted and are never shared. I can withdraw this consent at any time; the bank "
    "then stops using my face and I use a one-time code instead."
)
