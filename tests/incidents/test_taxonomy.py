"""Taxonomy layers: total tables, and a message carrying only a documented code gets that code's class."""

import json

import pytest
from databricks.sdk.service import compute, jobs

from aimsweb.choices import ErrorCategory
from incidents.analysis.offline import offline_classifier
from incidents.analysis.taxonomy import TAXONOMY_DIR, taxonomy
from scripts.generate_spark_sqlstates import sqlstates


def analyze(message: str):
    return offline_classifier().analyze(message)


# ----------------------------------------------------------------------------------------------- tables are total
def test_termination_table_covers_every_sdk_code_and_type():
    tables = taxonomy()
    codes = {c.value for c in compute.TerminationReasonCode} | {c.value for c in jobs.TerminationCodeCode}
    types = {t.value for t in compute.TerminationReasonType} | {t.value for t in jobs.TerminationTypeType}

    assert codes - set(tables.termination_codes) == set()
    assert types - set(tables.termination_types) == set()


def test_every_spark_sqlstate_has_a_class():
    tables = taxonomy()

    assert tables.spark_sqlstates
    assert all(tables.sqlstate(state) for state in tables.spark_sqlstates.values())


def test_spark_table_generator_keeps_only_top_level_sqlstates():
    conditions = {
        "B_CLASS": {"message": ["m"], "subClass": {"SUB": {"message": ["s"]}}, "sqlState": "42P01"},
        "A_CLASS": {"message": ["m"], "sqlState": "22012"},
        "NO_STATE": {"message": ["m"]},
    }

    assert list(sqlstates(conditions).items()) == [("A_CLASS", "22012"), ("B_CLASS", "42P01")]
    assert json.loads((TAXONOMY_DIR / "spark_sqlstates.json").read_text())["sources"][0].startswith("apache/spark")


# ------------------------------------------------------------------------------------------ one code, its class
@pytest.mark.parametrize(
    ("state", "category"),
    [
        ("08006", ErrorCategory.TRANSIENT),
        ("22P02", ErrorCategory.DATA_QUALITY),
        ("23503", ErrorCategory.DATA_QUALITY),
        ("28P01", ErrorCategory.PERMISSION),
        ("42P01", ErrorCategory.CONFIGURATION),
        ("3F000", ErrorCategory.CONFIGURATION),
        ("42501", ErrorCategory.PERMISSION),
        ("42601", ErrorCategory.CODE),
        ("40P01", ErrorCategory.TRANSIENT),
        ("53200", ErrorCategory.RESOURCE),
        ("54001", ErrorCategory.RESOURCE),
        ("0A000", ErrorCategory.CODE),
        ("XX000", ErrorCategory.UNKNOWN),
    ],
)
def test_a_message_with_only_a_sqlstate_gets_its_class(state, category):
    result = analyze(f"Query 7 ended. SQLSTATE: {state}")

    assert result.category == category
    assert result.should_retry == (category == ErrorCategory.TRANSIENT)


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("[BINARY_ARITHMETIC_OVERFLOW] 127S + 1S caused overflow.", ErrorCategory.DATA_QUALITY),
        ("[CATALOG_NOT_FOUND] The catalog `lake` not found.", ErrorCategory.CONFIGURATION),
        ("[CANNOT_MERGE_SCHEMAS] Failed merging schemas.", ErrorCategory.CODE),
    ],
)
def test_a_spark_error_class_without_sqlstate_gets_its_sqlstate_class(message, category):
    assert analyze(message).category == category


@pytest.mark.parametrize(
    ("code", "category"),
    [
        ("AZURE_EPHEMERAL_DISK_FAILURE", ErrorCategory.TRANSIENT),
        ("GCP_QUOTA_EXCEEDED", ErrorCategory.RESOURCE),
        ("INSTANCE_POOL_NOT_FOUND", ErrorCategory.CONFIGURATION),
        ("GCP_KMS_KEY_PERMISSION_DENIED", ErrorCategory.PERMISSION),
        ("NETWORK_CHECK_NIC_FAILURE_DUE_TO_MISCONFIG", ErrorCategory.CONFIGURATION),
    ],
)
def test_a_termination_code_alone_gets_its_class(code, category):
    message = json.dumps({"state": "TERMINATED", "termination_reason": {"code": code, "type": "CLIENT_ERROR"}})

    assert analyze(message).category == category


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("java.net.UnknownHostException: warehouse.example.net", ErrorCategory.CONFIGURATION),
        ("java.nio.file.AccessDeniedException: /dbfs/raw/x", ErrorCategory.PERMISSION),
        ("java.time.format.DateTimeParseException: Text '31/02' could not be parsed", ErrorCategory.DATA_QUALITY),
        ("java.net.ConnectException: Connection refused (Connection refused)", ErrorCategory.TRANSIENT),
        ("ModuleNotFoundError: No module named 'great_tables'", ErrorCategory.CONFIGURATION),
        ("MemoryError", ErrorCategory.RESOURCE),
        ("System.UnauthorizedAccessException: Access to the path 'C:\\x' is denied.", ErrorCategory.PERMISSION),
        ("System.TimeoutException: The operation has timed out.", ErrorCategory.TRANSIENT),
    ],
)
def test_an_exception_class_alone_gets_its_class(message, category):
    assert analyze(message).category == category


@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("Upstream answered with status code 502", ErrorCategory.TRANSIENT),
        ("Upstream answered with status code 401", ErrorCategory.PERMISSION),
        ("The remote server returned an error: (410) Gone.", ErrorCategory.CONFIGURATION),
        ("Blob write refused. ErrorCode: ServerBusy", ErrorCategory.TRANSIENT),
        ("Scale-out refused: InsufficientInstanceCapacity in us-east-1a", ErrorCategory.TRANSIENT),
        ("Deployment refused: VcpuLimitExceeded", ErrorCategory.RESOURCE),
    ],
)
def test_http_families_and_cloud_codes_get_their_class(message, category):
    assert analyze(message).category == category


@pytest.mark.parametrize(
    ("text", "evidence", "category"),
    [
        # ODBC diagnostic records as .NET's ODBC provider prints them: "ERROR [<SQLSTATE>] [vendor][driver]..."
        (
            "ERROR [08001] [Microsoft][ODBC Driver 18 for SQL Server]TCP Provider: timeout",
            "SQLSTATE 08001",
            "transient",
        ),
        ("ERROR [28000] [Cloudera][Hardy] (34) Error from server: x", "SQLSTATE 28000", "permission"),
        # JDBC drivers' "HTTP Response code: N", urllib3's "too many N error responses"
        ("Reason: HTTP Response code: 403, Error message: Unknown.", "HTTP 403", "permission"),
        ("(Caused by ResponseError('too many 503 error responses'))", "HTTP 503", "transient"),
    ],
    ids=["odbc-08001", "odbc-28000", "driver-http", "urllib3"],
)
def test_status_shapes_of_drivers_and_clients_are_read(text, evidence, category):
    verdicts = {(v.evidence, v.category) for v in taxonomy().verdicts(text)}

    assert (evidence, ErrorCategory(category)) in verdicts


# ------------------------------------------------------------------------------------------------ retry caution
@pytest.mark.parametrize(
    "message",
    [
        "Operation on target Load failed: The service is temporarily unavailable, please retry. Caused by: "
        "java.nio.file.AccessDeniedException: /mnt/raw/orders",
        '{"errorCode": "2011", "message": "Transient failure, retry later. ErrorCode=X,\'Type=System.'
        'UnauthorizedAccessException,Message=Access to the path is denied.,Source=y,\'", "failureType": '
        '"SystemError"}',
        "HTTP 503 from gateway. Caused by: [INSUFFICIENT_PERMISSIONS] Insufficient privileges. SQLSTATE: 42501",
        # an outer connector code documented as transient (ADLS Gen2 timeout) wrapping a denied access
        "Failure happened on 'Sink' side. ErrorCode=AdlsGen2TimeoutError,'Type=Microsoft.DataTransfer.Common.Shared."
        "HybridDeliveryException,Message=Request to ADLS Gen2 account 'lake' met timeout error.,Source=x,''Type=System."
        "UnauthorizedAccessException,Message=Access to the path '/raw/x' is denied.,Source=y,'",
    ],
    ids=["caused-by", "copy-chain", "http-wrapper", "copy-chain-timeout-code"],
)
def test_an_outer_retry_never_beats_an_inner_non_transient_cause(message):
    result = analyze(message)

    assert result.should_retry is False
    assert result.category == ErrorCategory.PERMISSION


def test_a_message_without_a_cause_is_unknown_with_low_confidence():
    result = analyze("Operation on target Notify failed: Job execution failed.")

    assert (result.category, result.should_retry) == (ErrorCategory.UNKNOWN, False)
    assert result.confidence <= 40
