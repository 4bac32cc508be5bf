"""The error corpus: real-world ADF/Databricks error messages with a ground-truth label."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_JSON_MESSAGE_RE = re.compile(r'"(?:message|state_message)"\s*:\s*"([^"\n]{3,})"')
CORPUS_PATH = Path(__file__).parent / "data" / "errors.jsonl"


@dataclass(frozen=True, slots=True)
class CorpusRow:
    id: str
    source_system: str  # "adf" | "databricks"
    error_message: str
    error_code: str | None
    label: str
    should_retry: bool

    @property
    def first_line(self) -> str:
        """The headline of the message: what a UI or a one-line summary would show.

        Some corpus messages are ADF error objects serialised as JSON; their headline is the inner "message".
        Lines that are only punctuation (e.g. a lone "{") are skipped.
        """
        text = self.error_message.strip()
        if text.startswith(("{", '"')):
            try:
                inner = json.loads(text)
            except ValueError:
                inner = None
            if isinstance(inner, dict) and isinstance(inner.get("message"), str) and inner["message"].strip():
                return inner["message"].strip().splitlines()[0].strip()
            found = _JSON_MESSAGE_RE.search(text)
            if found:
                return found.group(1).strip()
        for line in text.splitlines():
            if sum(ch.isalnum() for ch in line) >= 3:
                return line.strip()
        return text.splitlines()[0].strip() if text else ""


@lru_cache(maxsize=4)
def load_corpus(path: str = str(CORPUS_PATH)) -> tuple[CorpusRow, ...]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            raw = json.loads(line)
            rows.append(
                CorpusRow(
                    id=raw["id"],
                    source_system=raw["source_system"],
                    error_message=raw["error_message"],
                    error_code=raw.get("error_code"),
                    label=raw["label"],
                    should_retry=bool(raw.get("should_retry")),
                )
            )
    # Sorted by id so the seeded choice does not depend on the file's line order.
    return tuple(sorted(rows, key=lambda r: r.id))


def rows_for(source: str, ids: list[str] | None = None) -> tuple[CorpusRow, ...]:
    rows = tuple(r for r in load_corpus() if r.source_system == source)
    if ids:
        wanted = set(ids)
        rows = tuple(r for r in rows if r.id in wanted)
    if not rows:
        raise ValueError(f"no corpus rows for source {source!r} (ids={ids})")
    return rows


def row_by_id(corpus_id: str) -> CorpusRow:
    for row in load_corpus():
        if row.id == corpus_id:
            return row
    raise KeyError(corpus_id)
