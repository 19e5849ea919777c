"""CSV export of the audit trail, streamed, with spreadsheet formulas defused."""

from __future__ import annotations

import csv
import json
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
