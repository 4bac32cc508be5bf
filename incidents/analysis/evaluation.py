"""Score a classifier on labelled error messages: accuracy, per-class precision/recall, confusion, retry quality;
and, for the offline classifier, a leave-one-error-family-out estimate of how it does on errors it was not written
from."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aimsweb.choices import ErrorCategory
from incidents.analysis.offline import KnowledgeBase, OfflineClassifier
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


def evaluate(rows: Iterable[Mapping[str, Any]], classify: Callable[[Mapping[str, Any]], AnalysisResult]) -> Evaluation:
    """Run ``classify`` on every row (error_message, label, should_retry, optional id/source_system/error_code)."""
    rows = list(rows)
    return score(rows, [classify(row) for row in rows])


def score(rows: Sequence[Mapping[str, Any]], verdicts: Sequence[AnalysisResult]) -> Evaluation:
    """Score the verdicts given on the rows (in the same order)."""
    labels = list(LABELS)
    confusion = {label: dict.fromkeys(labels, 0) for label in labels}
    result = Evaluation(confusion=confusion)
    correct = 0
    for index, (row, analysis) in enumerate(zip(rows, verdicts, strict=True), 1):
        row_id = str(row.get("id") or f"row-{index}")
        label = str(row["label"])
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


# ------------------------------------------------------------------------------------------------- error families
# A row's family says what the error is (never its label), from the most specific evidence it carries: the platform's
# own code families first, then the first exception class, then the first word. Codes found in the message count as
# well as the row's error_code, so an activity error wrapping a connector code is grouped by the connector.
# The sections of "Troubleshoot Azure Data Factory" (MicrosoftDocs/azure-docs, data-factory-troubleshoot-guide.md)
# by the first two digits of their codes; its three-digit codes (206-208) are in the HDInsight section.
ADF_ACTIVITY_AREAS = {
    "20": "activity",
    "21": "common",
    "22": "copy",
    "23": "hdinsight",
    "25": "custom",
    "27": "data-lake-analytics",
    "32": "databricks",
    "36": "azure-function",
    "41": "machine-learning",
}
_DF_CODE = re.compile(r"\bDF-([A-Za-z0-9]+)-[\w-]+")
_CONNECTOR_CODE = re.compile(r"\bErrorCode\s*=\s*'?([A-Za-z][A-Za-z0-9]{2,})")
_ERROR_CLASS = re.compile(r"^_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:\.[A-Z0-9_]+)*$")
_MESSAGE_CLASSES = (
    re.compile(r"\[(_?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:\.[A-Z0-9_]+)*)\]"),  # Spark: [TABLE_OR_VIEW_NOT_FOUND]
    re.compile(r"[\"']error_code[\"']\s*:\s*[\"']([A-Z][A-Z0-9_]+)[\"']"),  # Databricks REST: "error_code": "..."
    re.compile(r"(?:^|[\s{\"])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?=:)"),  # termination codes: "ADD_NODES_FAILED: ..."
)
_SQLSTATE = re.compile(r"\bSQLSTATE\s*[:=]?\s*([0-9A-Z]{2})[0-9A-Z]{3}\b", re.IGNORECASE)
_DRIVER = re.compile(r"\[(\w+)\]\[(\w+)\]\s*\(\d+\)")  # [Databricks][JDBCDriver](500593)
_ACTIVITY_CODE = re.compile(r"[\"']errorCode[\"']\s*:\s*[\"'](\d{3,4})[\"']")
_HTTP_STATUS = re.compile(
    r"\b(?:HTTP(?:/[\d.]+)?|status(?: code)?|Error)[\s:'\"=]*([1-5]\d\d)\b|\(([1-5]\d\d)\)"
    r"|\b([1-5]\d\d) (?:Forbidden|Unauthorized|Not Found|Bad Request|Too Many Requests|Service Unavailable)",
    re.IGNORECASE,
)
_EXCEPTION = re.compile(r"\b(?:[a-z_][\w$]*\.)*([A-Z]\w*(?:Exception|Error))\b")
_WORD = re.compile(r"[A-Za-z]{2,}")
_CAMEL_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+\d*|[A-Z]+|\d+")


def _connector_prefix(code: str) -> str:
    """The connector part of an ADF connector code: its first word, with a version word kept (AdlsGen2...)."""
    words = _CAMEL_WORD.findall(code)
    prefix = words[:1]
    for word in words[1:]:
        if not re.fullmatch(r"(?:Gen|V)?\d+", word, re.IGNORECASE):
            break
        prefix.append(word)
    return "".join(prefix).lower()


def _activity_area(code: str) -> str:
    head = code[:2] if len(code) == 4 else code[:1]
    area = "hdinsight" if len(code) == 3 and code.startswith("2") else ADF_ACTIVITY_AREAS.get(head, "")
    return f"{head}{'x' * (len(code) - len(head))}" + (f"-{area}" if area else "")


def error_family(row: Mapping[str, Any]) -> str:
    """A stable key for what a labelled error is: ``<source>:<kind>:<family>``. Kinds, most specific first:
    ``dataflow`` (the second segment of ADF ``DF-*`` codes), ``connector`` (an ADF connector code's first word, a
    version word kept: ``adlsgen2``; ``code`` for such a CamelCase code on another platform, e.g. a storage code),
    ``class`` (a Spark error class, a Databricks REST or termination code, without sub-class), ``sqlstate`` (its
    two-character class), ``driver`` (a JDBC/ODBC driver's tag), ``activity`` (an ADF numeric code by the guide's
    area), ``http`` (status family), then the fallback: ``exception`` (the first exception class named), ``code``
    (a bare number nothing above explains) or ``word`` (the message's first word)."""
    source = str(row.get("source_system") or "any").strip().lower() or "any"
    message = str(row.get("error_message") or "")
    code = str(row.get("error_code") or "").strip()
    numeric = code.isdigit()

    def family(kind: str, value: str) -> str:
        return f"{source}:{kind}:{value}"

    if found := _DF_CODE.search(f"{code} {message}"):
        return family("dataflow", found[1].lower())
    coded = "connector" if source == "adf" else "code"  # outside ADF a CamelCase code is a service's (storage...)
    if code and not numeric and not _ERROR_CLASS.match(code):
        return family(coded, _connector_prefix(code))
    if found := _CONNECTOR_CODE.search(message):
        return family(coded, _connector_prefix(found[1]))
    classes = [code] if _ERROR_CLASS.match(code) else []
    classes += [found[1] for pattern in _MESSAGE_CLASSES if (found := pattern.search(message))]
    if classes:
        return family("class", classes[0].split(".")[0])
    if found := _SQLSTATE.search(message):
        return family("sqlstate", found[1].upper())
    if found := _DRIVER.search(message):
        return family("driver", f"{found[1]}-{found[2]}".lower())
    activity = code if numeric and source == "adf" else ""
    if not activity and (found := _ACTIVITY_CODE.search(message)):
        activity = found[1]
    if activity:
        return family("activity", _activity_area(activity))
    status = code if numeric and len(code) == 3 and code[0] in "12345" else ""
    if not status and (found := _HTTP_STATUS.search(message)):
        status = next(group for group in found.groups() if group)
    if status:
        return family("http", f"{status[0]}xx")
    if found := _EXCEPTION.search(message):
        return family("exception", found[1].lower())
    if numeric:
        return family("code", code)
    found = _WORD.search(message)
    return family("word", found[0].lower() if found else "empty")


# ---------------------------------------------------------------------------------------- leave one family out
@dataclass(frozen=True)
class FamilyScore:
    family: str
    evaluation: Evaluation  # its rows, classified without the rules set aside for it
    rules_set_aside: tuple[str, ...]


@dataclass(frozen=True)
class FamilyEvaluation:
    pooled: Evaluation  # every row, each classified as its family's rows were
    families: list[FamilyScore]  # largest family first


def classify_row(classifier: OfflineClassifier, row: Mapping[str, Any]) -> AnalysisResult:
    """The offline verdict on a labelled row (error_message, optional error_code and source_system)."""
    return classifier.analyze(str(row["error_message"]), **_row_arguments(row))


def _row_arguments(row: Mapping[str, Any]) -> dict[str, str]:
    return {"error_code": str(row.get("error_code") or ""), "source_system": str(row.get("source_system") or "")}


def evaluate_by_family(
    rows: Sequence[Mapping[str, Any]],
    knowledge: KnowledgeBase,
    family_of: Callable[[Mapping[str, Any]], str] = error_family,
) -> FamilyEvaluation:
    """Leave one error family out. The rule base has no training step, so "training without F" means: set aside
    every rule that matches (by pattern or code) a row of family F and no row of any other family — the rules that
    may have been written from F's lines, whatever taxonomy they cite — and classify F's rows with what is left."""
    full = OfflineClassifier(knowledge)
    rule_ids = {rule.id for rule in knowledge.rules}  # explain also names verdicts that are not rules of the base
    matched = [
        {rule_id for rule_id, _ in full.explain(str(row["error_message"]), **_row_arguments(row))} & rule_ids
        for row in rows
    ]
    members: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        members.setdefault(family_of(row), []).append(index)
    families_matching: dict[str, set[str]] = {}  # rule id -> the families whose rows it matches
    for family, indexes in members.items():
        for index in indexes:
            for rule_id in matched[index]:
                families_matching.setdefault(rule_id, set()).add(family)

    verdicts: dict[int, AnalysisResult] = {}
    scores = []
    for family, indexes in sorted(members.items(), key=lambda item: (-len(item[1]), item[0])):
        aside = {rule_id for rule_id, families in families_matching.items() if families == {family}}
        rules = tuple(rule for rule in knowledge.rules if rule.id not in aside)
        reduced = OfflineClassifier(replace(knowledge, rules=rules)) if aside else full
        family_rows = [rows[index] for index in indexes]
        verdicts |= {index: classify_row(reduced, rows[index]) for index in indexes}
        evaluation = score(family_rows, [verdicts[index] for index in indexes])
        scores.append(FamilyScore(family, evaluation, tuple(sorted(aside))))
    return FamilyEvaluation(pooled=score(rows, [verdicts[index] for index in range(len(rows))]), families=scores)


def figures(evaluation: Evaluation) -> dict[str, Any]:
    """The headline figures of an evaluation, for JSON output."""
    return {
        "rows": evaluation.total,
        "accuracy": round(evaluation.accuracy, 4),
        "retry_precision": round(evaluation.retry_precision, 4),
        "retry_recall": round(evaluation.retry_recall, 4),
        "retry_true_positives": evaluation.retry_true_positives,
        "retry_predicted": evaluation.retry_predicted,
        "retry_actual": evaluation.retry_actual,
    }


def family_figures(result: FamilyEvaluation) -> dict[str, Any]:
    """The pooled leave-one-family-out figures and each family's, for JSON output."""
    return {
        **figures(result.pooled),
        "families": len(result.families),
        "rules_set_aside": sum(len(score.rules_set_aside) for score in result.families),
        "per_family": [
            {"family": score.family, **figures(score.evaluation), "rules_set_aside": list(score.rules_set_aside)}
            for score in result.families
        ],
    }


def format_family_report(result: FamilyEvaluation) -> str:
    """The leave-one-family-out section: pooled figures, then one line per family (largest first)."""
    pooled = result.pooled
    set_aside = sum(len(score.rules_set_aside) for score in result.families)
    lines = [
        "leave-one-family-out: each family classified without the rules that match only its rows",
        f"families: {len(result.families)}   rules set aside: {set_aside}",
        f"rows: {pooled.total}   accuracy: {pooled.accuracy:.1%}",
        f"retry precision: {pooled.retry_precision:.3f} ({pooled.retry_true_positives}/{pooled.retry_predicted})"
        f"   retry recall: {pooled.retry_recall:.3f} ({pooled.retry_true_positives}/{pooled.retry_actual})",
        "",
        f"{'family':<48}{'rows':>5}{'rules out':>10}{'accuracy':>10}{'retry P':>9}{'retry R':>9}",
    ]
    for score in result.families:
        evaluation = score.evaluation
        tp = evaluation.retry_true_positives
        lines.append(
            f"{score.family:<48}{evaluation.total:>5}{len(score.rules_set_aside):>10}{evaluation.accuracy:>10.0%}"
            f"{f'{tp}/{evaluation.retry_predicted}':>9}{f'{tp}/{evaluation.retry_actual}':>9}"
        )
    return "\n".join(lines)
