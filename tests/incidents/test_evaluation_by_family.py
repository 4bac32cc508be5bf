"""Leave-one-error-family-out evaluation: what a row's family is, which rules are set aside for it, the drop it shows
when a rule was written from one family's lines, and the command's text and JSON output."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from incidents.analysis.evaluation import error_family, evaluate, evaluate_by_family
from incidents.analysis.offline import OfflineClassifier, load_knowledge
from tests.incidents.corpus import read_jsonl

DEV_CORPUS = Path(settings.BASE_DIR).parent / "shared" / "corpus" / "dev_errors.jsonl"
CATEGORIES = Path(settings.BASE_DIR) / "incidents" / "analysis" / "knowledge" / "_categories.yaml"


def row(message: str, *, source: str = "adf", code: str | None = None, label: str = "unknown", retry=False) -> dict:
    return {
        "source_system": source,
        "error_message": message,
        "error_code": code,
        "label": label,
        "should_retry": retry,
    }


@pytest.mark.parametrize(
    ("sample", "family"),
    [
        # data flow codes by their second segment (ADF data-flow troubleshooting guide)
        (
            row('Operation on target Data flow1 failed: {"StatusCode":"DF-Executor-InvalidPath","Message":"x"}'),
            "adf:dataflow:executor",
        ),
        (row("DF-SYS-01: java.lang.AssertionError: assertion failed"), "adf:dataflow:sys"),
        # a connector code wrapped in an activity error is grouped by the connector (connector troubleshooting guide)
        (
            row(
                '{"errorCode": "2200", "message": "Failure happened on \'Sink\' side. '
                "ErrorCode=AdlsGen2TimeoutError,'Type=System.TimeoutException,Message=timed out,Source=x'\"}",
                code="2200",
            ),
            "adf:connector:adlsgen2",
        ),
        (row("Invalid SFTP credential provided.", code="SftpInvalidSftpCredential"), "adf:connector:sftp"),
        (row("ADLS Gen2 operation failed for: x", code="ADLSGen2OperationFailed"), "adf:connector:adlsgen2"),
        # Spark error classes without their sub-class (Spark error-conditions docs)
        (
            row("[DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION] Cannot resolve", source="databricks"),
            "databricks:class:DATATYPE_MISMATCH",
        ),
        # a Databricks REST error body and a cluster termination code (Jobs / Clusters API docs)
        (
            row('Error: {"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no pool"}', source="databricks"),
            "databricks:class:RESOURCE_DOES_NOT_EXIST",
        ),
        (row("ADD_NODES_FAILED: Unable to add 1 container", source="databricks"), "databricks:class:ADD_NODES_FAILED"),
        (row("Division failed. SQLSTATE: 22012", source="databricks"), "databricks:sqlstate:22"),
        (
            row("java.sql.SQLException: [Databricks][JDBCDriver](500157) Socket timeout", source="databricks"),
            "databricks:driver:databricks-jdbcdriver",
        ),
        # ADF numeric codes by the troubleshooting guide's section
        (
            row('{"errorCode": "3208", "message": "An error occurred while sending the request."}'),
            "adf:activity:32xx-databricks",
        ),
        (row("The batch ID for Spark job is invalid.", code="206"), "adf:activity:2xx-hdinsight"),
        (row("Error 403 Token is expiring", source="databricks", code="403"), "databricks:http:4xx"),
        (row("Request failed with HTTP 503 from the gateway", source="databricks"), "databricks:http:5xx"),
        # fallback: the first exception class, else the first word
        (row("NameError: name 'dbutils' is not defined", source="databricks"), "databricks:exception:nameerror"),
        (row("Failed to negotiate key exchange algorithm."), "adf:word:failed"),
        (row(""), "adf:word:empty"),
    ],
)
def test_error_family_groups_by_what_the_error_is(sample, family):
    assert error_family(sample) == family


def test_error_family_ignores_the_label_and_the_row_id():
    first = row("NameError: name 'x' is not defined", source="databricks", label="code")
    second = {**first, "label": "unknown", "should_retry": True, "id": "other"}

    assert error_family(first) == error_family(second)


def _knowledge(tmp_path: Path):
    """A tiny knowledge base: one rule written from the widget family's lines, one shared by two families."""
    (tmp_path / "_categories.yaml").write_text(CATEGORIES.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(
        """
rules:
  - id: widget_jam
    category: transient
    priority: 70
    patterns: ['widget jammed']
    summary: 'A widget jammed'
  - id: network_timeout
    category: transient
    priority: 50
    patterns: ['timed out']
    summary: 'A call timed out'
  - id: gadget_code
    category: configuration
    priority: 70
    codes: ['GADGET_MISSING']
    summary: 'A gadget is missing'
""",
        encoding="utf-8",
    )
    return load_knowledge(tmp_path)


ROWS = [
    row("WidgetError: widget jammed at station 3", source="databricks", label="transient", retry=True),
    row("WidgetError: widget jammed at station 7", source="databricks", label="transient", retry=True),
    row("TimeoutError: read timed out", source="databricks", label="transient", retry=True),
    row("SocketError: connect timed out", source="databricks", label="transient", retry=True),
    row("The gadget is not there", source="databricks", code="GADGET_MISSING", label="configuration"),
]


def test_by_family_sets_aside_rules_that_match_only_one_family_and_shows_the_drop(tmp_path):
    knowledge = _knowledge(tmp_path)
    plain = evaluate(
        ROWS, lambda r: OfflineClassifier(knowledge).analyze(r["error_message"], error_code=r["error_code"] or "")
    )

    result = evaluate_by_family(ROWS, knowledge)

    assert plain.accuracy == 1.0 and plain.retry_recall == 1.0
    aside = {score.family: score.rules_set_aside for score in result.families}
    assert aside == {
        "databricks:exception:widgeterror": ("widget_jam",),
        "databricks:exception:timeouterror": (),  # its rule matches another family's row too: kept
        "databricks:exception:socketerror": (),
        "databricks:class:GADGET_MISSING": ("gadget_code",),  # a code-only match counts as a match
    }
    assert [score.evaluation.total for score in result.families] == [2, 1, 1, 1]  # largest family first
    assert result.pooled.total == 5
    assert result.pooled.accuracy == pytest.approx(2 / 5)
    assert (result.pooled.retry_true_positives, result.pooled.retry_predicted) == (2, 2)
    assert result.pooled.retry_recall == pytest.approx(2 / 4)
    widgets = next(score for score in result.families if score.family.endswith("widgeterror"))
    assert widgets.evaluation.accuracy == 0.0 and widgets.evaluation.confusion["transient"]["unknown"] == 2


def test_by_family_keeps_the_full_base_for_the_other_families(tmp_path):
    knowledge = _knowledge(tmp_path)

    evaluate_by_family(ROWS, knowledge)

    assert [rule.id for rule in knowledge.rules] == ["widget_jam", "network_timeout", "gadget_code"]


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "errors.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


COMMAND_ROWS = [
    {**row("java.net.SocketTimeoutException: Read timed out", source="databricks", label="transient"), "id": "a"},
    {
        **row("[TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be found.", source="databricks"),
        "label": "configuration",
        "id": "b",
    },
]
COMMAND_ROWS[0]["should_retry"] = True


def test_command_by_family_prints_the_plain_report_then_the_family_section(tmp_path):
    out = StringIO()

    call_command("evaluate_classifier", str(_write(tmp_path, COMMAND_ROWS)), "--by-family", stdout=out)

    report = out.getvalue()
    plain, _, by_family = report.partition("leave-one-family-out")
    assert "accuracy" in plain and "confusion" in plain
    assert "families: 2" in by_family and "rows: 2" in by_family and "retry precision" in by_family
    assert "databricks:class:TABLE_OR_VIEW_NOT_FOUND" in by_family
    assert "databricks:exception:sockettimeoutexception" in by_family


def test_command_json_prints_one_object_with_both_figures(tmp_path):
    path = _write(tmp_path, COMMAND_ROWS)
    out, plain_only = StringIO(), StringIO()

    call_command("evaluate_classifier", str(path), "--by-family", "--json", stdout=out)
    call_command("evaluate_classifier", str(path), "--json", stdout=plain_only)

    figures = json.loads(out.getvalue())
    assert figures["plain"]["rows"] == 2 and 0 <= figures["plain"]["accuracy"] <= 1
    assert figures["by_family"]["families"] == 2 and figures["by_family"]["rows"] == 2
    assert {entry["family"] for entry in figures["by_family"]["per_family"]} == {
        "databricks:class:TABLE_OR_VIEW_NOT_FOUND",
        "databricks:exception:sockettimeoutexception",
    }
    assert set(json.loads(plain_only.getvalue())) == {"plain"}


def test_command_by_family_on_the_dev_corpus_covers_every_row():
    if not DEV_CORPUS.is_file():
        pytest.skip(f"labelled dev corpus not found at {DEV_CORPUS}")
    out = StringIO()

    call_command("evaluate_classifier", str(DEV_CORPUS), "--by-family", "--json", stdout=out)

    figures = json.loads(out.getvalue())["by_family"]
    rows = read_jsonl(DEV_CORPUS)
    assert figures["rows"] == len(rows) == sum(entry["rows"] for entry in figures["per_family"])
    assert figures["families"] == len({error_family(r) for r in rows}) > 10
