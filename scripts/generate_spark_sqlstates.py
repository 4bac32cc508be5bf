"""Write incidents/analysis/knowledge/taxonomy/spark_sqlstates.json: Spark error class -> SQLSTATE, nothing else.

Usage: python scripts/generate_spark_sqlstates.py <error-conditions.json> <source commit> [--output PATH]

The input is apache/spark common/utils/src/main/resources/error/error-conditions.json (named error-classes.json
before Spark 4.0). Only top-level classes carry a sqlState (sub-classes inherit it), so only they are kept; the
messages are not copied.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SOURCE_PATH = "apache/spark common/utils/src/main/resources/error/error-conditions.json"
DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "incidents/analysis/knowledge/taxonomy/spark_sqlstates.json"


def sqlstates(conditions: dict) -> dict[str, str]:
    """Error class -> SQLSTATE for every top-level class that declares one, sorted by class."""
    return {
        name: body["sqlState"]
        for name, body in sorted(conditions.items())
        if isinstance(body, dict) and isinstance(body.get("sqlState"), str)
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("conditions", type=Path)
    parser.add_argument("commit")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    table = sqlstates(json.loads(args.conditions.read_text(encoding="utf-8")))
    document = {"source": f"{SOURCE_PATH} @ {args.commit}", "error_classes": table}
    args.output.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"{args.output}: {len(table)} error classes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
