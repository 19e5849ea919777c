"""Notices to a customer are written in the customer's language, not in that of the staff member (or kiosk
screen) whose click sent them: render the text inside `customer_language(customer)`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import translation


def language_of(customer: object) -> str:
    """The customer's language if it is one we speak, else the bank's default."""
    language = getattr(customer, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@contextmanager
def customer_language(customer: object) -> Iterator[str]:
    language = language_of(customer)
    with translation.override(language):
        yield language


def notice_render(customer: object, render: Callable[[], str]) -> str:
    """`render()` (which calls gettext) evaluated in the customer's language."""
    with customer_language(customer):
        return str(render())
