"""Anomaly detection quality on a labelled corpus: AIMS's detector beside Elementary's method (default, and with
its day-of-week / hour-of-day seasonality), per kind and overall, scored as the corpus README says; then split
estimates of how the one tuned choice (the sensitivity level) generalises.

    python -m bench.anomaly_eval [FILE.jsonl]

Split estimates: the sensitivity level is chosen on one part of the series (best overall F1) and measured on the
rest: two halves by a hash of the series id (each half in turn), and leave one kind out. The detector's other
parameters come from the documented behaviour of operations data, not from the corpus, so these splits are the
honest check that the figures do not rest on fitting this file. Not wired into bench/run.py yet.
"""

import hashlib
import sys
from collections.abc import Iterable
from pathlib import Path

from insights.anomalies.detector import SENSITIVITIES, detect
from insights.anomalies.elementary import elementary_flags, seasonal_choice
from insights.anomalies.scoring import Figures, score
from insights.anomalies.series import Series, series_from_line

DEV_CORPUS = Path("/work/shared/corpus/observability/anomalies_dev.jsonl")
# Acceptance targets of issue 17, per kind: precision, recall, sustained recall (at least), false alarms (at most).
TARGETS = {"precision": 0.80, "recall": 0.85, "sustained_recall": 0.90, "false_alarms_per_90": 1.0}

Result = tuple[str, int, frozenset[int], frozenset[int]]


def load(path: Path) -> list[Series]:
    return [series_from_line(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def aims_results(corpus: list[Series], sensitivity: str = "medium") -> list[Result]:
    return [_result(s, (d.anomalous for d in detect(s.points, s.kind, s.granularity, sensitivity))) for s in corpus]


def elementary_results(corpus: list[Series], *, seasonal: bool) -> list[Result]:
    results = []
    for s in corpus:
        seasonality = seasonal_choice(s.granularity) if seasonal else "none"
        results.append(_result(s, elementary_flags(s.points, s.kind, seasonality=seasonality)))
    return results


def meets_targets(figures: Figures) -> bool:
    return (
        figures.precision >= TARGETS["precision"]
        and figures.recall >= TARGETS["recall"]
        and figures.sustained_recall >= TARGETS["sustained_recall"]
        and figures.false_alarms_per_90 <= TARGETS["false_alarms_per_90"]
    )


def table(title: str, figures: dict[str, Figures]) -> str:
    lines = [title, f"  {'kind':24} {'series':>6} {'prec':>6} {'recall':>6} {'F1':>6} {'sust.':>6} {'FA/90':>6}"]
    for kind, f in figures.items():
        mark = "" if meets_targets(f) else "  (below target)"
        lines.append(
            f"  {kind:24} {f.series:6d} {f.precision:6.2f} {f.recall:6.2f} {f.f1:6.2f} "
            f"{f.sustained_recall:6.2f} {f.false_alarms_per_90:6.2f}{mark}"
        )
    return "\n".join(lines)


def split_estimates(corpus: list[Series]) -> list[tuple[str, str, Figures, Figures]]:
    """(split, sensitivity chosen on the other part, its figures on the held-out part, the default medium's figures
    on the held-out part) for each split."""
    by_level = {level: aims_results(corpus, level) for level in SENSITIVITIES}
    halves = [_id_half(s) for s in corpus]
    splits: list[tuple[str, list[bool]]] = [
        ("id-hash half A", [half == 0 for half in halves]),
        ("id-hash half B", [half == 1 for half in halves]),
    ]
    splits += [(f"left-out kind {kind}", [s.kind == kind for s in corpus]) for kind in sorted({s.kind for s in corpus})]
    estimates = []
    for name, held_out in splits:
        level = max(
            SENSITIVITIES,
            key=lambda lv: score(r for r, out in zip(by_level[lv], held_out, strict=True) if not out)["overall"].f1,
        )
        measured = score(r for r, out in zip(by_level[level], held_out, strict=True) if out)["overall"]
        default = score(r for r, out in zip(by_level["medium"], held_out, strict=True) if out)["overall"]
        estimates.append((name, level, measured, default))
    return estimates


def main(argv: list[str]) -> None:
    path = Path(argv[0]) if argv else DEV_CORPUS
    corpus = load(path)
    print(f"{path}: {len(corpus)} series, {sum(len(s.points) for s in corpus)} points")
    print(table("AIMS (sensitivity medium)", score(aims_results(corpus))))
    print(table("Elementary, default (days_back 14, sensitivity 3)", score(elementary_results(corpus, seasonal=False))))
    print(table("Elementary, day_of_week / hour_of_day", score(elementary_results(corpus, seasonal=True))))
    print("Split estimates (sensitivity chosen on the rest, measured on the part named)")
    for name, level, chosen, default in split_estimates(corpus):
        print(f"  {name:38} chose {level:6} {_short(chosen)} | medium {_short(default)}")


def _short(f: Figures) -> str:
    mark = "" if meets_targets(f) else " (below)"
    return (
        f"P {f.precision:.2f} R {f.recall:.2f} sust. {f.sustained_recall:.2f} FA/90 {f.false_alarms_per_90:.2f}{mark}"
    )


def _result(series: Series, flags: Iterable[bool]) -> Result:
    found = frozenset(index for index, flag in enumerate(flags) if flag)
    return series.kind, len(series.points), series.labels, found


def _id_half(series: Series) -> int:
    return hashlib.sha256((series.id or "").encode()).digest()[0] % 2


if __name__ == "__main__":
    main(sys.argv[1:])
