"""Translatable names for the back office: model names, field labels and choice labels of our apps.

Django derives a model's and a field's name from the Python identifier ("card", "full name"), which no
catalogue can translate, so the Russian admin read "Выберите card для изменения". Wrapping those derived
names in gettext_lazy at start-up makes them catalogue entries (accounts/locale/) without touching each
model: the names stay the same in English, no migration changes (deconstruct() keeps the constructor's
values), and the apps that own the models keep their files to themselves.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Field
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

TRANSLATED_APPS = ("accounts", "biometrics", "audit", "kiosk")
# English plurals Django would get wrong or that read better otherwise.
PLURALS = {"bank account": "bank accounts", "enrolment photo": "enrolment photos"}


def _lazy(text: object) -> Any:
    return text if isinstance(text, Promise) else gettext_lazy(str(text))


def _property_labels() -> None:
    """Model properties shown as read-only admin fields would be labelled from their name ("Masked pan")."""
    from accounts.models import Card

    Card.masked_pan.fget.short_description = gettext_lazy("Card number")  # type: ignore[attr-defined]


def verbose_names_translate() -> None:
    _property_labels()
    for label in TRANSLATED_APPS:
        config = apps.get_app_config(label)
        config.verbose_name = _lazy(config.verbose_name)
        for model in config.get_models():
            opts = model._meta
            singular = str(opts.verbose_name)
            plural = str(opts.verbose_name_plural) if "verbose_name_plural" in opts.original_attrs else None
            opts.verbose_name = _lazy(singular)
            opts.verbose_name_plural = _lazy(plural or PLURALS.get(singular, f"{singular}s"))
            for field in opts.get_fields():
                if not getattr(field, "concrete", False) or not isinstance(field, Field):
                    continue
                field.verbose_name = _lazy(field.verbose_name)
                if field.help_text:
                    field.help_text = _lazy(field.help_text)
                if field.choices:
                    field.choices = [(value, _lazy(name)) for value, name in field.choices]
