"""Reading JSON Lines files of errors for the command-line tools, with problems reported by line number."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class LineError(ValueError):
    def __init__(self, line: int, message: str):
        super().__init__(f"line {line}: {message}")
        self.line = line


def error_rows(path: Path, *, required: tuple[str, ...] = ("error_message",)) -> Iterator[tuple[int, dict | LineError]]:
    """(line number, row) for each non-blank line; a LineError in place of the row when the line is not a JSON
    object with the required text fields."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row: Any = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, LineError(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
                continue
            if not isinstance(row, dict):
                yield number, LineError(number, "expected a JSON object")
                continue
            missing = [field for field in required if not isinstance(row.get(field), str) or not row[field].strip()]
            if missing:
                yield number, LineError(number, f"field {missing[0]!r} is missing or not a non-empty string")
                continue
            yield number, row
