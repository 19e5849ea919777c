"""The Russian sweep: every admin and branch page, its visible text, and the English left in it.

`visible_texts(html)` reads what a person sees (text nodes outside scripts and styles, and the
title/placeholder/aria-label/alt attributes and button labels); `english_left(text, data)` says whether a
text still holds English words once data (names, numbers, codes: every character value stored in the
database) and a small allow-list (PIN, EUR, UTC...) are taken out. `admin_pages(client)` lists every
changelist/add/change page of the registered models, every admin action's intermediate page, and the
custom pages; `branch_pages()` the branch portal. The sweep test (tests/backoffice/test_russian_sweep.py)
and the browser pass use both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.apps import apps
from django.contrib import admin
from django.db import models
from django.urls import NoReverseMatch, reverse

# Words that are the same in a Russian interface: abbreviations, currency codes, zones, language names.
ALLOWED_WORDS = frozenset(
    {
        "PIN",
        "OTP",
        "CSV",
        "EUR",
        "USD",
        "GBP",
        "RUB",
        "ID",
        "API",
        "UTC",
        "MSK",
        "CET",
        "CEST",
        "GMT",
        "JPEG",
        "PNG",
        "HMAC",
        "SHA",
        "PAN",
        "IBAN",
        "SMS",
        "URL",
        "QR",
        "English",
        "Swagger",
        "OpenAPI",
        "E",  # E.164
        "ISO",
        "CVV",
        "UUID",
        "JSON",
        "IP",
        "PAD",
        "HTTP",
        "md5",  # the password hash summary of Django's user form
        "WhatsApp",
        "Authorization",  # an HTTP header's name
        "Control",  # Django's own Russian help text: "Удерживайте “Control“ (или “Command“ на Mac)"
        "Command",
        "Mac",
        "LDAP",
        "Single",  # Django's Russian: "Single Sing-On или LDAP"
        "Sing",
        "On",
        "id",
        "Id",
    }
)
SKIPPED_TAGS = frozenset({"script", "style", "template", "textarea", "code", "pre", "noscript"})
TEXT_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’]*")
# Fields whose stored value is interface text written in English by our code, not data.
NOT_DATA_FIELDS = frozenset({("accounts", "changerequest", "summary")})


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in SKIPPED_TAGS:
            self._skipping.append(tag)
        if self._skipping:
            return
        for name in TEXT_ATTRIBUTES:
            # Django's own icons (yes/no, search) carry English alt text Django does not translate.
            if name == "alt" and (values.get("src") or "").startswith("/static/admin/img/"):
                continue
            if values.get(name):
                self.texts.append(values[name] or "")
        if tag == "input" and values.get("type") in {"submit", "button"} and values.get("value"):
            self.texts.append(values["value"] or "")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and self._skipping[-1] == tag:
            self._skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self._skipping and data.strip():
            self.texts.append(data)


def visible_texts(html: str) -> list[str]:
    parser = _TextParser()
    parser.feed(html)
    return [" ".join(text.split()) for text in parser.texts if text.strip()]


def data_values() -> list[str]:
    """Every character value stored by our apps and the staff usernames: data, not interface text."""
    values: set[str] = set()
    for label in ("accounts", "biometrics", "audit", "kiosk", "auth"):
        for model in apps.get_app_config(label).get_models():
            names = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, models.CharField | models.TextField | models.UUIDField)
                and not f.choices
                and (label, model._meta.model_name, f.name) not in NOT_DATA_FIELDS
            ]
            for row in model.objects.values_list(*names) if names else ():
                values.update(str(v) for v in row if v)
            for json_field in [
                f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField)
            ]:
                for blob in model.objects.values_list(json_field, flat=True):
                    if isinstance(blob, dict):  # typed reasons and notes kept in a payload
                        values.update(v for v in blob.values() if isinstance(v, str) and v)
    return sorted((v for v in values if len(v) >= 2), key=len, reverse=True)


# Django stores permission names in English ("Can view card"); the group form lists them as they are.
PERMISSION_OPTION = re.compile(r"^.+ \| .+ \| Can (add|change|delete|view|approve|review|export|mark) ")


# Setting names (AUDIT_CHAIN_KEY) and masked hashes ("k7*****") are codes, not words.
CODES = re.compile(r"\b[A-Z][A-Z0-9]*(_[A-Z0-9]+)+\b|\b\w+\*{3,}")


def english_left(text: str, data: Iterable[str]) -> bool:
    if PERMISSION_OPTION.match(text) or text.startswith(("{", "[")):  # raw JSON of a record: data
        return False
    for value in data:
        if value in text:
            # Whole values only: a stored "n" must not eat the n of "Control".
            text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    text = CODES.sub(" ", text)
    return any(word not in ALLOWED_WORDS for word in LATIN_WORD.findall(text))


@dataclass
class Finding:
    page: str
    texts: list[str] = field(default_factory=list)


def report(findings: list[Finding]) -> str:
    """Each untranslated string once, with (up to three of) the pages that show it."""
    pages: dict[str, list[str]] = {}
    for finding in findings:
        for text in finding.texts:
            pages.setdefault(text, [])
            if finding.page not in pages[text]:
                pages[text].append(finding.page)
    lines = [f"{len(pages)} untranslated string(s) on {len(findings)} page(s):"]
    for text, where in pages.items():
        more = f" (+{len(where) - 3} more)" if len(where) > 3 else ""
        lines.append(f"  {text!r}  <- {'; '.join(where[:3])}{more}")
    return "\n".join(lines)


def page_findings(page: str, html: str, data: list[str]) -> Finding | None:
    english = [text for text in visible_texts(html) if english_left(text, data)]
    return Finding(page, english) if english else None


def _url(name: str, *args: object) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def admin_pages() -> Iterator[str]:
    """Changelist, add and change page (first row) of every registered model, and the custom pages."""
    for model in admin.site._registry:
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        yield reverse(f"{prefix}_changelist")
        add = _url(f"{prefix}_add")
        if add:
            yield add
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            yield reverse(f"{prefix}_change", args=[first.pk])
            history = _url(f"{prefix}_history", first.pk)
            if history:
                yield history
    yield reverse("admin:index")
    yield reverse("admin:password_change")


def admin_actions(request_user: object) -> Iterator[tuple[str, str, int]]:
    """(changelist URL, action name, pk of the first row) for every action the user is offered."""
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = request_user  # type: ignore[assignment]
    for model, model_admin in admin.site._registry.items():
        first = model._default_manager.order_by("pk").first()
        if first is None:
            continue
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        for name in model_admin.get_actions(request):
            yield url, name, first.pk
