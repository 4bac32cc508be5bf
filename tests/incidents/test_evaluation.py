"""Scoring a classifier on labelled rows: figures, confusion matrix, retry quality and the text report."""

import pytest

from incidents.analysis.evaluation import evaluate, format_report
from incidents.analysis.schema import AnalysisResult


def result(category: str, retry: bool = False) -> AnalysisResult:
    return AnalysisResult(
        category=category,
        severity="medium",
        should_retry=retry,
        retry_delay_minutes=5 if retry else 0,
        confidence=50,
        summary="s",
        root_cause="",
        recommended_actions=[],
        manual_intervention_required=not retry,
    )


ROWS = [
    {"id": "a", "error_message": "t1", "label": "transient", "should_retry": True},
    {"id": "b", "error_message": "t2", "label": "transient", "should_retry": True},
    {"id": "c", "error_message": "p1", "label": "permission", "should_retry": False},
    {"id": "d", "error_message": "c1", "label": "code", "should_retry": False},
    {"error_message": "c2", "label": "code", "should_retry": False},  # no id: reported by row number
]
PREDICTIONS = {
    "t1": result("transient", retry=True),
    "t2": result("unknown"),  # missed retry
    "p1": result("transient", retry=True),  # wrong class and a wrong retry
    "c1": result("code"),
    "c2": result("code"),
}


@pytest.fixture
def evaluation():
    return evaluate(ROWS, lambda row: PREDICTIONS[row["error_message"]])


def test_headline_figures(evaluation):
    assert evaluation.total == 5
    assert evaluation.accuracy == pytest.approx(3 / 5)
    assert evaluation.misclassified == ["b", "c"]
    assert evaluation.wrong_retry == ["b", "c"]


def test_retry_precision_and_recall_treat_should_retry_as_positive(evaluation):
    assert (evaluation.retry_true_positives, evaluation.retry_predicted, evaluation.retry_actual) == (1, 2, 2)
    assert evaluation.retry_precision == pytest.approx(0.5)
    assert evaluation.retry_recall == pytest.approx(0.5)


def test_per_class_scores_and_confusion(evaluation):
    transient, code, permission = (evaluation.per_class[k] for k in ("transient", "code", "permission"))

    assert (transient.precision, transient.recall, transient.support) == (0.5, 0.5, 2)
    assert (code.precision, code.recall, code.support) == (1.0, 1.0, 2)
    assert (permission.precision, permission.recall, permission.support) == (1.0, 0.0, 1)
    assert evaluation.confusion["transient"]["unknown"] == 1
    assert evaluation.confusion["permission"]["transient"] == 1
    assert evaluation.confusion["code"]["code"] == 2
    assert sum(sum(row.values()) for row in evaluation.confusion.values()) == 5


def test_row_without_id_is_named_by_position():
    evaluation = evaluate(
        [{"error_message": "x", "label": "code", "should_retry": False}], lambda row: result("resource")
    )

    assert evaluation.misclassified == ["row-1"]


def test_empty_input_and_empty_denominators_do_not_divide_by_zero():
    evaluation = evaluate([], lambda row: result("code"))

    assert evaluation.total == 0
    assert evaluation.accuracy == 0.0
    assert evaluation.retry_precision == evaluation.retry_recall == 1.0


def test_labels_outside_the_known_classes_are_counted_not_rejected():
    evaluation = evaluate([{"error_message": "x", "label": "mystery", "should_retry": False}], lambda r: result("code"))

    assert evaluation.confusion["mystery"]["code"] == 1
    assert evaluation.per_class["mystery"].recall == 0.0


def test_report_is_a_readable_table(evaluation):
    report = format_report(evaluation)

    assert "accuracy: 60.0%" in report
    assert "retry precision: 0.500 (1/2)" in report
    assert "confusion (rows: label, columns: predicted)" in report
    assert "misclassified: b, c" in report
    for label in ("transient", "permission", "code", "unknown"):
        assert label in report
    lines = report.splitlines()
    header = lines[lines.index("confusion (rows: label, columns: predicted)") + 1]
    assert header.split() == ["transi", "resour", "config", "permis", "data_q", "code", "unknow"]
    assert lines[lines.index("confusion (rows: label, columns: predicted)") + 2].split() == [
        "transient", "1", "0", "0", "0", "0", "0", "1"
    ]  # fmt: skip
