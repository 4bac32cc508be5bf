"""Run every benchmark (or those named), print a table, write var/bench/results.json.

Usage: python -m bench.run [name ...]   (names: poll_ingest, webhook_ingest, ui_pages, live_push, contract_check,
detect_series, storm);
`make bench` runs them on PostgreSQL (`make bench BENCH="ui_pages live_push"` runs some).
"""

import importlib
import sys

from bench.common import write_results

BENCHMARKS = ["poll_ingest", "webhook_ingest", "ui_pages", "live_push", "contract_check", "detect_series", "storm"]


def main(names: list[str]) -> None:
    metrics = []
    for name in names or BENCHMARKS:
        print(f"== {name}", flush=True)
        metrics += importlib.import_module(f"bench.{name}").run()
    write_results(metrics)
    print(f"\n{'metric':<32}{'value':>12} {'unit':<8}{'ceiling':>12}{'ratio':>8}  target")
    for m in metrics:
        print(f"{m.metric:<32}{m.value:>12} {m.unit:<8}{m.ceiling:>12}{m.ratio:>8}  {m.target}")


if __name__ == "__main__":
    main(sys.argv[1:])
