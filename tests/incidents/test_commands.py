"""The classify_errors and evaluate_classifier commands: output shape, and bad lines named by number."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

ROWS = [
    {
        "id": "a",
        "source_system": "databricks",
        "error_message": "java.net.SocketTimeoutException: Read timed out",
        "label": "transient",
        "should_retry": True,
    },
    {
        "id": "b",
        "source_system": "adf",
        "error_message": "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or "
        "view `raw`.`orders` cannot be found.",
        "label": "configuration",
        "should_retry": False,
    },
]


def _write(tmp_path, lines: list[str]):
    path = tmp_path / "errors.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_classify_errors_prints_one_json_line_per_input(tmp_path):
    path = _write(tmp_path, [json.dumps(row) for row in ROWS])
    out = StringIO()

    call_command("classify_errors", str(path), stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert set(lines[0]) == {"id", "category", "should_retry", "confidence", "signature"}
    assert lines[0]["category"] == "transient" and lines[0]["should_retry"] is True
    assert lines[1]["should_retry"] is False and len(lines[1]["signature"]) == 64


def test_classify_errors_bad_lines_named_and_others_still_classified(tmp_path):
    path = _write(tmp_path, [json.dumps(ROWS[0]), "{not json", json.dumps({"id": "x"}), "[1]", json.dumps(ROWS[1])])
    out, err = StringIO(), StringIO()

    with pytest.raises(CommandError, match="3 line"):
        call_command("classify_errors", str(path), stdout=out, stderr=err)

    assert len(out.getvalue().splitlines()) == 2
    problems = err.getvalue()
    assert "line 2: not valid JSON" in problems
    assert "line 3: field 'error_message' is missing" in problems
    assert "line 4: expected a JSON object" in problems


def test_classify_errors_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("classify_errors", str(tmp_path / "nope.jsonl"))


def test_evaluate_classifier_reports_accuracy_matrix_and_retry_scores(tmp_path):
    path = _write(tmp_path, [json.dumps(row) for row in ROWS])
    out = StringIO()

    call_command("evaluate_classifier", str(path), stdout=out)

    report = out.getvalue().lower()
    assert "accuracy" in report and "confusion" in report
    assert "precision" in report and "recall" in report


def test_evaluate_classifier_needs_labels(tmp_path):
    path = _write(tmp_path, [json.dumps({"error_message": "boom", "label": "code", "should_retry": "no"})])

    with pytest.raises(CommandError, match="line 1: field 'should_retry' must be true or false"):
        call_command("evaluate_classifier", str(path))


def test_classify_errors_llm_needs_configuration(tmp_path, settings):
    settings.AIMS_LLM_MODEL = ""
    path = _write(tmp_path, [json.dumps(ROWS[0])])

    with pytest.raises(CommandError, match="AIMS_LLM_MODEL"):
        call_command("classify_errors", str(path), "--analyzer", "llm")


def test_classify_errors_llm_through_simulator_with_fallback_reported(tmp_path, settings):
    from simulator.testing import run_simulator

    path = _write(tmp_path, [json.dumps(row) for row in ROWS])
    with run_simulator("quiet") as sim:
        settings.AIMS_LLM_MODEL, settings.AIMS_LLM_BASE_URL = "sim-analyst", f"{sim.url}/v1"
        settings.AIMS_LLM_API_KEY, settings.AIMS_LLM_TIMEOUT_SECONDS = "sk-test", 2
        out = StringIO()
        call_command("classify_errors", str(path), "--analyzer", "llm", stdout=out)
        sim.set_faults(rate=1.0, kinds=["500"], apply_to_llm=True)
        failed = StringIO()
        call_command("classify_errors", str(path), "--analyzer", "llm", stdout=failed)
        calls = sim.llm_calls()["calls"]

    answered = [json.loads(line) for line in out.getvalue().splitlines()]
    fallen_back = [json.loads(line) for line in failed.getvalue().splitlines()]
    assert [line["analyzer"] for line in answered] == ["llm", "llm"] and calls == 2
    assert answered[0]["category"] == "transient"
    assert all(line["analyzer"] == "offline" and "HTTP 500" in line["fallback_reason"] for line in fallen_back)
