"""Write incidents/analysis/knowledge/taxonomy/spark_sqlstates.json: error class -> SQLSTATE, nothing else.

Usage:
  python scripts/generate_spark_sqlstates.py \
    --source apache/spark common/utils/src/main/resources/error/error-conditions.json <commit> <local copy> \
    --source delta-io/delta spark/src/main/resources/error/delta-error-classes.json <commit> <local copy> \
    [--output PATH]

Each source is an error catalogue of the same shape: Spark's error-conditions.json (named error-classes.json before
Spark 4.0) and Delta Lake's delta-error-classes.json (the DELTA_* classes Databricks prints next to Spark's). Only
top-level classes carry a sqlState (sub-classes inherit it), so only they are kept; the messages are not copied. The
catalogues are merged into one table, each source recorded with its repository, path and commit; a class that two
sources map to different SQLSTATEs is an error, because the table could not say which one a message means.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "incidents/analysis/knowledge/taxonomy/spark_sqlstates.json"


@dataclass(frozen=True)
class Source:
    repo: str  # owner/name on GitHub
    path: str  # the catalogue's path in that repository
    commit: str
    conditions: Mapping[str, object]  # the catalogue's parsed JSON

    @property
    def label(self) -> str:
        return f"{self.repo} {self.path} @ {self.commit}"


class ConflictError(ValueError):
    pass


def sqlstates(conditions: Mapping[str, object]) -> dict[str, str]:
    """Error class -> SQLSTATE for every top-level class that declares one, sorted by class."""
    return {
        name: body["sqlState"]
        for name, body in sorted(conditions.items())
        if isinstance(body, dict) and isinstance(body.get("sqlState"), str)
    }


def merged_sqlstates(sources: Iterable[Source]) -> dict[str, str]:
    """The union of every source's table, sorted by class; a class mapped to two SQLSTATEs raises ConflictError."""
    table: dict[str, str] = {}
    origin: dict[str, str] = {}
    for source in sources:
        for name, state in sqlstates(source.conditions).items():
            if table.get(name, state) != state:
                raise ConflictError(f"{name}: SQLSTATE {table[name]} in {origin[name]} but {state} in {source.label}")
            table[name] = state
            origin.setdefault(name, source.label)
    return dict(sorted(table.items()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source",
        nargs=4,
        action="append",
        required=True,
        metavar=("REPO", "PATH", "COMMIT", "FILE"),
        help="an error catalogue: its repository, path there, commit, and a local copy of it (repeatable)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    sources = [
        Source(repo, path, commit, json.loads(Path(local).read_text(encoding="utf-8")))
        for repo, path, commit, local in args.source
    ]
    try:
        table = merged_sqlstates(sources)
    except ConflictError as error:
        parser.error(str(error))
    document = {"sources": [source.label for source in sources], "error_classes": table}
    args.output.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"{args.output}: {len(table)} error classes from {len(sources)} sources")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
