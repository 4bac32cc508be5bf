"""Score a classifier on labelled error messages: accuracy, per-class precision/recall, confusion, retry quality."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aimsweb.choices import ErrorCategory
from incidents.analysis.schema import AnalysisResult

LABELS: tuple[str, ...] = tuple(ErrorCategory.values)


@dataclass(frozen=True)
class ClassScore:
    precision: float
    recall: float
    support: int


@dataclass
class Evaluation:
    total: int = 0
    accuracy: float = 0.0
    per_class: dict[str, ClassScore] = field(default_factory=dict)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # confusion[label][predicted] -> count
    retry_precision: float = 0.0  # of runs the classifier would retry, how many should be retried
    retry_recall: float = 0.0  # of runs that should be retried, how many the classifier retries
    retry_true_positives: int = 0
    retry_predicted: int = 0
    retry_actual: int = 0
    misclassified: list[str] = field(default_factory=list)  # ids (or row numbers) whose class was wrong
    wrong_retry: list[str] = field(default_factory=list)  # ids whose retry decision was wrong


def read_jsonl(path: Path | str) -> list[dict[str, Any]]:
    """Rows of a JSONL file, blank lines skipped."""
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def evaluate(rows: Iterable[Mapping[str, Any]], classify: Callable[[Mapping[str, Any]], AnalysisResult]) -> Evaluation:
    """Run ``classify`` on every row (error_message, label, should_retry, optional id/source_system/error_code)."""
    labels = list(LABELS)
    confusion = {label: dict.fromkeys(labels, 0) for label in labels}
    result = Evaluation(confusion=confusion)
    correct = 0
    for index, row in enumerate(rows, 1):
        row_id = str(row.get("id") or f"row-{index}")
        label = str(row["label"])
        analysis = classify(row)
        predicted = str(analysis.category)
        for name in (label, predicted):  # tolerate labels outside the enum rather than fail the report
            if name not in confusion:
                labels.append(name)
                for counts in confusion.values():
                    counts.setdefault(name, 0)
                confusion[name] = dict.fromkeys(labels, 0)
        confusion[label][predicted] += 1
        result.total += 1
        if predicted == label:
            correct += 1
        else:
            result.misclassified.append(row_id)

        expected_retry = bool(row.get("should_retry"))
        result.retry_actual += expected_retry
        result.retry_predicted += analysis.should_retry
        result.retry_true_positives += expected_retry and analysis.should_retry
        if expected_retry != analysis.should_retry:
            result.wrong_retry.append(row_id)

    result.accuracy = correct / result.total if result.total else 0.0
    result.retry_precision = _ratio(result.retry_true_positives, result.retry_predicted)
    result.retry_recall = _ratio(result.retry_true_positives, result.retry_actual)
    for label in labels:
        true_positives = confusion[label][label]
        predicted_total = sum(confusion[actual][label] for actual in labels)
        support = sum(confusion[label].values())
        result.per_class[label] = ClassScore(
            precision=_ratio(true_positives, predicted_total), recall=_ratio(true_positives, support), support=support
        )
    return result


def _ratio(numerator: int, denominator: int) -> float:
    """A ratio with an empty denominator counts as perfect: nothing was predicted (or expected), nothing went wrong."""
    return numerator / denominator if denominator else 1.0


def format_report(evaluation: Evaluation) -> str:
    """A plain-text report: headline figures, per-class table, confusion matrix (rows: label, columns: predicted)."""
    labels = [label for label in evaluation.confusion if evaluation.per_class.get(label)]
    short = {label: label[:6] for label in labels}
    lines = [
        f"rows: {evaluation.total}   accuracy: {evaluation.accuracy:.1%}",
        f"retry precision: {evaluation.retry_precision:.3f} ({evaluation.retry_true_positives}/"
        f"{evaluation.retry_predicted})   retry recall: {evaluation.retry_recall:.3f} "
        f"({evaluation.retry_true_positives}/{evaluation.retry_actual})",
        "",
        f"{'class':<15}{'precision':>10}{'recall':>10}{'support':>9}",
    ]
    for label in labels:
        score = evaluation.per_class[label]
        lines.append(f"{label:<15}{score.precision:>10.2f}{score.recall:>10.2f}{score.support:>9}")
    lines += [
        "",
        "confusion (rows: label, columns: predicted)",
        f"{'':<15}" + "".join(f"{short[p]:>8}" for p in labels),
    ]
    for label in labels:
        lines.append(f"{label:<15}" + "".join(f"{evaluation.confusion[label][p]:>8}" for p in labels))
    lines += ["", "misclassified: " + (", ".join(evaluation.misclassified) or "none")]
    lines.append("wrong retry decision: " + (", ".join(evaluation.wrong_retry) or "none"))
    return "\n".join(lines)
