import json
import sys
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError

from contracts.odcs.diff import Change, contract_changes, verdict


class ContractTextError(ValueError):
    """A contract text that is not a YAML mapping."""


class Command(BaseCommand):
    help = (
        "Classify the changes between two versions of an ODCS contract. With OLD.yaml NEW.yaml: a table of changes "
        "and the verdict (exit status 1 when breaking). With --pairs FILE.jsonl (lines with id, old, new): one JSON "
        'object per line on stdout, {"id", "verdict", "changes": [{"path", "kind", "level"}]}, exit status 0.'
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="*", type=Path, metavar="OLD.yaml NEW.yaml")
        parser.add_argument("--pairs", type=Path, metavar="FILE.jsonl", help="Classify each pair of a JSONL file.")

    def handle(self, *args, files: list[Path], pairs: Path | None, **options) -> None:
        if pairs is not None:
            if files:
                raise CommandError("give either --pairs FILE.jsonl or OLD.yaml NEW.yaml, not both")
            self._pairs(pairs)
            return
        if len(files) != 2:
            raise CommandError("give two contract files, OLD.yaml NEW.yaml (or --pairs FILE.jsonl)")
        try:
            old, new = (_contract(path.read_text(encoding="utf-8"), str(path)) for path in files)
        except (OSError, ContractTextError) as exc:
            raise CommandError(str(exc)) from exc
        changes = contract_changes(old, new)
        self.stdout.write(_table(changes))
        result = verdict(changes)
        self.stdout.write(f"\nverdict: {result} ({len(changes)} change{'' if len(changes) == 1 else 's'})")
        if result == "breaking":
            sys.exit(1)

    def _pairs(self, path: Path) -> None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        for number, line in enumerate(lines, start=1):
            if line.strip():
                self.stdout.write(json.dumps(_classify_line(line, f"{path}:{number}", self.stderr)))


def _classify_line(line: str, where: str, stderr: Any) -> dict[str, Any]:
    """One output object per input line; a line that cannot be read says why and the run goes on."""
    pair_id = None
    try:
        pair = json.loads(line)
        if not isinstance(pair, dict):
            raise ContractTextError("the line is not a JSON object")
        pair_id = pair.get("id")
        old = _contract(pair.get("old"), "old")
        new = _contract(pair.get("new"), "new")
    except json.JSONDecodeError as exc:
        stderr.write(f"{where}: not valid JSON ({exc})")
        return {"id": None, "error": f"not valid JSON ({exc})"}
    except ContractTextError as exc:
        stderr.write(f"{where}: {exc}")
        return {"id": pair_id, "error": str(exc)}
    changes = contract_changes(old, new)
    return {
        "id": pair_id,
        "verdict": verdict(changes),
        "changes": [{"path": change.path, "kind": change.kind, "level": change.level} for change in changes],
    }


def _contract(text: Any, where: str) -> dict:
    if not isinstance(text, str):
        raise ContractTextError(f"{where}: the contract text is missing")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise ContractTextError(f"{where}{line}: invalid YAML ({getattr(exc, 'problem', None) or exc})") from exc
    if not isinstance(data, dict):
        raise ContractTextError(f"{where}: the contract must be a YAML mapping")
    return data


def _table(changes: list[Change]) -> str:
    if not changes:
        return "no changes"
    rows = [("LEVEL", "KIND", "PATH", "BEFORE -> AFTER")]
    rows += [(c.level, c.kind, c.path, f"{_short(c.before)} -> {_short(c.after)}") for c in changes]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = ("  ".join(cell.ljust(width) for cell, width in zip(row, [*widths, 0], strict=True)) for row in rows)
    return "\n".join(line.rstrip() for line in lines)


def _short(value: Any, limit: int = 60) -> str:
    text = "-" if value is None else value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
