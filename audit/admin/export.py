"""CSV export of the audit trail, streamed, with spreadsheet formulas defused and personal data minimised.

A CSV leaves the bank's controls (mail, laptops, shared drives), so it carries only what an auditor needs:
* no full phone number anywhere: a value under a key naming a phone, and any "+digits" number in a text, is
  exported as its last four digits ("•••• 1234");
* names only on the events whose review is about a person's identity — a customer created (who was onboarded)
  and a customer updated (what the name became). Everywhere else the customer id and card's last four identify
  the subject, and the personal column says which fields were withheld (they stay on the event's admin page).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import (
    StreamingHttpResponse,
)
from django.utils import timezone

from ..chain import CHAINED_FIELDS
from ..models import AuditEvent

EXPORT = "audit.export_auditevent"
# The chained facts of an event (audit.chain.CHAINED_FIELDS) followed by what the chain does not cover.
FACTS = tuple(name for name in CHAINED_FIELDS if name != "personal_digest")
CSV_COLUMNS = [*FACTS, "personal", "personal_erased", "prev_hash", "hash"]
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


PHONE_IN_TEXT = re.compile(r"\+\d[\d\s().-]{6,}\d")
# Events whose review is about who the customer is: their names are what the auditor checks.
NAME_EVENTS = frozenset({AuditEvent.Kind.CUSTOMER_CREATED, AuditEvent.Kind.CUSTOMER_UPDATED})
WITHHELD = "(withheld)"


def phone_mask(text: str) -> str:
    digits = "".join(char for char in text if char.isdigit())
    return f"•••• {digits[-4:]}" if digits else ""


def _phones_masked(value: Any, *, under_phone: bool = False) -> Any:
    if isinstance(value, dict):
        return {
            key: _phones_masked(item, under_phone=under_phone or "phone" in str(key).lower())
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_phones_masked(item, under_phone=under_phone) for item in value]
    if isinstance(value, str):
        if under_phone:
            return phone_mask(value)
        return PHONE_IN_TEXT.sub(lambda match: phone_mask(match.group()), value)
    return value


def personal_for_export(*, kind: str, personal: dict[str, Any]) -> dict[str, Any]:
    if kind in NAME_EVENTS:
        return _phones_masked(personal)
    return dict.fromkeys(personal, WITHHELD)


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, ensure_ascii=False)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_rows(events: QuerySet[AuditEvent]) -> Iterator[list[str]]:
    yield CSV_COLUMNS
    for event in events.values(*CSV_COLUMNS).iterator(chunk_size=2000):
        if event["personal_erased"]:
            event["personal"] = {}  # never export what erasure removed, whatever the column holds
        event["personal"] = personal_for_export(kind=event["kind"], personal=event["personal"] or {})
        event["data"] = _phones_masked(event["data"])
        event["created_at"] = event["created_at"].isoformat()
        yield [csv_cell(event[column]) for column in CSV_COLUMNS]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(events: QuerySet[AuditEvent]) -> StreamingHttpResponse:
    # Streamed row by row from a server-side cursor: the whole trail never sits in memory.
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in csv_rows(events)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response["Cache-Control"] = "no-store, private"
    return response
