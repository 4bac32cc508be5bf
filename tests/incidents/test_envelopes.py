"""Envelopes: each wrapper the platforms put around an error is peeled and the innermost cause classified."""

import json

import pytest

from aimsweb.choices import ErrorCategory
from aimsweb.envelopes import strip_log_prefixes, unwrap
from incidents.analysis.offline import offline_classifier

# Shapes after the ADF troubleshooting guides (MicrosoftDocs/azure-docs articles/data-factory/*troubleshoot*.md) and
# the Databricks REST error body ({"error_code", "message"}); names and values are made up.
COPY_CHAIN = (
    "Failure happened on 'Sink' side. ErrorCode=SqlOperationFailed,'Type=Microsoft.DataTransfer.Common.Shared."
    "HybridDeliveryException,Message=A database operation failed. Please search error to get more details.,"
    "Source=Microsoft.DataTransfer.ClientLibrary,''Type=System.Data.SqlClient.SqlException,Message=Cannot insert the "
    "value NULL into column 'id', table 'dw.dbo.orders'.,Source=.Net SqlClient Data Provider,SqlErrorNumber=515,'"
)


def test_activity_error_json_whose_message_is_json_is_peeled_to_the_data_flow_reason():
    data_flow = {
        "StatusCode": "DF-Executor-Example",
        "Message": "Job failed due to reason: at Sink 'sink1': Column delimiter is required.",
        "Details": "",
    }
    activity = {"errorCode": "2011", "message": json.dumps(data_flow), "failureType": "SystemError", "target": "df"}
    envelope = unwrap("Operation on target df failed: " + json.dumps(activity))

    assert envelope.innermost == "Column delimiter is required."
    assert {"2011", "SystemError", "DF-Executor-Example"} <= set(envelope.outer_codes)


def test_copy_activity_chain_keeps_the_inner_exception_and_the_outer_code():
    envelope = unwrap(COPY_CHAIN)

    assert envelope.innermost.startswith("System.Data.SqlClient.SqlException: Cannot insert the value NULL")
    assert "SqlOperationFailed" in envelope.outer_codes


def test_databricks_error_body_is_peeled():
    envelope = unwrap('Error: {"error_code":"INVALID_STATE","message":"Cluster 0101-abc is in unexpected state."}')

    assert envelope.innermost == "Cluster 0101-abc is in unexpected state."
    assert "INVALID_STATE" in envelope.outer_codes


@pytest.mark.parametrize(
    ("message", "innermost"),
    [
        (
            "org.apache.spark.SparkException: Job aborted.\nCaused by: java.io.IOException: wrapped\n"
            "\tat a.b(C.java:1)\nCaused by: java.net.UnknownHostException: db.example.net",
            "java.net.UnknownHostException: db.example.net",
        ),
        (
            'Traceback (most recent call last):\n  File "x.py", line 3, in <module>\n    f()\n'
            "KeyError: 'customer_id'",
            "KeyError: 'customer_id'",
        ),
        (
            "Database Error in model stg_orders (models/stg_orders.sql)\n  permission denied for table orders",
            "permission denied for table orders",
        ),
        (
            'dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "load":\n'
            "The above exception was caused by the following exception:\nTimeoutError: timed out",
            "TimeoutError: timed out",
        ),
        (
            "airflow.exceptions.AirflowException: PermissionError: [Errno 13] denied",
            "PermissionError: [Errno 13] denied",
        ),
        ("java.lang.RuntimeException: java.sql.SQLException: login refused", "java.sql.SQLException: login refused"),
        # Simba-built drivers: their own description, then the server's answer after "Reason:"
        (
            "[Simba][SparkJDBCDriver](500593) Communication link failure. Failed to connect to server. Reason: HTTP "
            "Response code: 401, Error message: Unauthorized.",
            "HTTP Response code: 401, Error message: Unauthorized.",
        ),
        # terraform: "Error: cannot <verb> <resource>: <API message>" and a gutter of location lines
        (
            "Error: cannot create job: Cluster 0101-abc does not exist\n│\n│   with databricks_job.etl,\n│   on "
            'jobs.tf line 12, in resource "databricks_job" "etl":\n│   12: resource "databricks_job" "etl" {',
            "Cluster 0101-abc does not exist",
        ),
        # a CLI error pasted with the command that produced it
        (
            '$ databricks fs ls dbfs:/x\nError: b\'{"error_code":"ENDPOINT_NOT_FOUND"}\'',
            'b\'{"error_code":"ENDPOINT_NOT_FOUND"}\'',
        ),
    ],
    ids=["caused-by", "traceback", "dbt", "dagster", "airflow", "exception-chain", "driver-reason", "terraform", "cli"],
)
def test_wrappers_are_peeled_to_the_innermost_cause(message, innermost):
    assert unwrap(message).innermost.strip() == innermost


@pytest.mark.parametrize(
    ("pasted", "plain"),
    [
        (
            "01:45:22  Runtime Error in model m (models/m.sql)\n01:45:22    boom",
            "Runtime Error in model m (models/m.sql)\nboom",
        ),
        ("[2024-05-01, 10:00:00 UTC] {taskinstance.py:1234} ERROR - Task failed", "Task failed"),
        ("2024-05-01T10:00:00.123Z Caused by: x\n2024-05-01 10:00:01,5 at y", "Caused by: x\nat y"),
        ("Deadline 12:30:00 missed", "Deadline 12:30:00 missed"),  # a time inside a line is text, not a prefix
    ],
    ids=["dbt", "airflow", "iso", "inline-time"],
)
def test_log_line_prefixes_are_stripped(pasted, plain):
    assert strip_log_prefixes(pasted) == plain


def test_plain_message_is_one_layer():
    envelope = unwrap("No space left on device")

    assert not envelope.wrapped
    assert envelope.innermost == "No space left on device"


@pytest.mark.parametrize(
    ("message", "category"),
    [
        (COPY_CHAIN, ErrorCategory.DATA_QUALITY),
        (
            json.dumps(
                {"errorCode": "2200", "message": COPY_CHAIN.replace("SqlErrorNumber=515", "SqlErrorNumber=1205")}
            ),
            ErrorCategory.TRANSIENT,
        ),
        (
            "Cluster terminated. Reason: Cloud provider launch failure\nAzure error code: PublicIPCountLimitReached\n"
            "Azure error message: Cannot create more than 10 public IP addresses for this subscription.",
            ErrorCategory.RESOURCE,
        ),
    ],
    ids=["copy-chain-null", "json-copy-chain-deadlock", "azure-error-code"],
)
def test_the_innermost_cause_decides(message, category):
    assert offline_classifier().analyze(message).category == category
