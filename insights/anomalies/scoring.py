"""The corpus README's scoring of point flags: precision, recall and F1, false alarms per 90 clean buckets, and
recall on the second and later buckets of sustained anomalies; overall and per kind."""

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figures:
    precision: float
    recall: float
    f1: float
    sustained_recall: float
    false_alarms_per_90: float
    series: int
    labelled: int


@dataclass
class _Counts:
    series: int = 0
    true_positives: int = 0
    flagged: int = 0
    labelled: int = 0
    false_alarms: int = 0
    clean_points: int = 0
    sustained: int = 0
    sustained_hit: int = 0


def sustained_tails(labels: frozenset[int]) -> set[int]:
    """The 2nd and later buckets of every run of consecutive labelled indexes lasting 2 buckets or more."""
    return {index for index in labels if index - 1 in labels}


def score(results: Iterable[tuple[str, int, frozenset[int], frozenset[int]]]) -> dict[str, Figures]:
    """Figures per kind and under "overall" from (kind, number of points, labels, flags) per series."""
    counts: dict[str, _Counts] = {}
    for kind, length, labels, flags in results:
        for name in (kind, "overall"):
            entry = counts.setdefault(name, _Counts())
            tails = sustained_tails(labels)
            entry.series += 1
            entry.true_positives += len(flags & labels)
            entry.flagged += len(flags)
            entry.labelled += len(labels)
            entry.false_alarms += len(flags - labels)
            entry.clean_points += length - len(labels)
            entry.sustained += len(tails)
            entry.sustained_hit += len(tails & flags)
    return {name: _figures(entry) for name, entry in sorted(counts.items(), key=lambda item: item[0] == "overall")}


def _figures(c: _Counts) -> Figures:
    # With nothing flagged (or nothing to find) the ratio is vacuously perfect.
    precision = c.true_positives / c.flagged if c.flagged else 1.0
    recall = c.true_positives / c.labelled if c.labelled else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Figures(
        precision=precision,
        recall=recall,
        f1=f1,
        sustained_recall=c.sustained_hit / c.sustained if c.sustained else 1.0,
        false_alarms_per_90=90 * c.false_alarms / c.clean_points if c.clean_points else 0.0,
        series=c.series,
        labelled=c.labelled,
    )
