"""CSV and JSON exports of what a list shows, streamed row by row and bounded: the first EXPORT_MAX rows, with the
limit, the total and whether it was cut said in the response headers (and in the JSON itself)."""

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone

from aimsweb.redact import redact

EXPORT_MAX = 10_000
EXPORT_FORMATS = ("csv", "json")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such cells get a leading '.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """A cell as text a spreadsheet shows as written, never as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def export_text(value: str | None) -> str:
    """Free text as exports carry it: redacted (stored text is redacted already; this keeps it so if not)."""
    return redact(value or "")


class _Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(columns)
    for row in rows:
        yield writer.writerow([csv_safe(_plain(row.get(column))) for column in columns])


def _json_chunks(key: str, meta: dict[str, Any], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    head = json.dumps(meta)[:-1]  # the object left open for the rows
    yield f'{head}, "{key}": ['
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps({name: _plain(value) for name, value in row.items()})
    yield "]}\n"


def _plain(value: object) -> object:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def export_response(
    *,
    export_format: str,
    name: str,
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
    total: int,
    limit: int = EXPORT_MAX,
) -> StreamingHttpResponse:
    """The rows (at most `limit`, the first of `total`) as a streamed CSV or JSON download named after `name`."""
    truncated = total > limit
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    if export_format == "json":
        meta = {"exported_at": timezone.now().isoformat(), "total": total, "limit": limit, "truncated": truncated}
        response = StreamingHttpResponse(_json_chunks(name, meta, rows), content_type="application/json")
    else:
        response = StreamingHttpResponse(_csv_lines(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="aims-{name}-{stamp}.{export_format}"'
    response["X-Export-Total"] = str(total)
    response["X-Export-Limit"] = str(limit)
    response["X-Export-Truncated"] = "true" if truncated else "false"
    response["Cache-Control"] = "no-store"
    return response
