"""Messy real-world shapes: wrappers around the cause, generic wording with a documented meaning, and retry caution.

Every message here is composed from a documented template or message family (the source is named next to it), with
made-up names and values; none is taken from the labelled sets in tests/incidents/data.
"""

import json

import pytest

from aimsweb.choices import ErrorCategory
from incidents.analysis.offline import offline_classifier

C = ErrorCategory


def analyze(message: str, **kwargs):
    return offline_classifier().analyze(message, **kwargs)


# ----------------------------------------------------------------------------------- retry: the cause, not the wrapper
@pytest.mark.parametrize(
    ("message", "category", "retry"),
    [
        # Simba-built JDBC drivers (Databricks/Spark): "(500593) Communication link failure ... Reason: <server answer>"
        (
            "java.sql.SQLException: [Simba][SparkJDBCDriver](500593) Communication link failure. Failed to connect to "
            "server. Reason: HTTP Response code: 401, Error message: Unauthorized.",
            C.PERMISSION,
            False,
        ),
        (
            "[Databricks][DatabricksJDBCDriver](500593) Communication link failure. Failed to connect to server. "
            "Reason: HTTP Response code: 404, Error message: Not Found.",
            C.CONFIGURATION,
            False,
        ),
        (
            "[Simba][SparkJDBCDriver](500593) Communication link failure. Failed to connect to server. Reason: HTTP "
            "Response code: 503, Error message: Service Unavailable.",
            C.TRANSIENT,
            True,
        ),
        # urllib3's MaxRetryError names the status it gave up on (requests' retry with a status_forcelist)
        (
            "HTTPSConnectionPool(host='adb-1.azuredatabricks.net', port=443): Max retries exceeded with url: "
            "/api/2.1/jobs/list (Caused by ResponseError('too many 403 error responses'))",
            C.PERMISSION,
            False,
        ),
    ],
    ids=["driver-401", "driver-404", "driver-503", "urllib3-403"],
)
def test_connection_failure_wrapping_a_status_is_judged_on_the_status(message, category, retry):
    result = analyze(message, source_system="databricks")

    assert (result.category, result.should_retry) == (category, retry)


def test_generic_transient_symptom_gives_way_to_an_explicit_refusal_in_the_same_text():
    # a connection-level symptom ("Connection refused") next to an HTTP 403 from the same call: a refused login
    result = analyze("Connection refused by gateway after authentication: HTTP status 403 Forbidden")

    assert result.category == C.PERMISSION
    assert result.should_retry is False


def test_documented_throttling_still_retries_when_reported_as_403():
    result = analyze("Rate limit exceeded (403): too many requests. Retry after 30 seconds.")

    assert (result.category, result.should_retry) == (C.TRANSIENT, True)


def test_adf_system_error_failure_type_alone_is_unknown_and_not_retried():
    activity = {"errorCode": "2011", "message": "Job failed.", "failureType": "SystemError", "target": "Notify"}
    result = analyze(json.dumps(activity), source_system="adf")

    assert (result.category, result.should_retry) == (C.UNKNOWN, False)


def test_adf_system_error_around_an_unsupported_setting_is_configuration():
    activity = {
        "errorCode": "2011",
        "message": "Execution of activity type 'Script' is not supported on this integration runtime version.",
        "failureType": "SystemError",
        "target": "Script1",
    }
    result = analyze(json.dumps(activity), source_system="adf")

    assert (result.category, result.should_retry) == (C.CONFIGURATION, False)


def test_weak_transient_signal_contested_by_another_class_is_not_retried():
    # "timeout" alone is weak; next to a 400 it is not evidence enough to rerun
    result = analyze("Request timeout value rejected: (400) Bad Request")

    assert result.should_retry is False
    assert result.manual_intervention_required is True


def test_uncontested_timeout_still_retries():
    result = analyze("The operation has timed out.")

    assert (result.category, result.should_retry) == (C.TRANSIENT, True)


# ------------------------------------------------------------------------------------------------ CLI and log shapes
def test_terraform_diagnostic_is_judged_on_its_message_not_its_location_lines():
    message = (
        "Error: cannot create secret scope: Principal 'ci-bot' is not authorized to perform this operation\n"
        '│\n│   with databricks_secret_scope.app,\n│   on secrets.tf line 4, in resource "databricks_secret_scope" '
        '"app":\n│    4: resource "databricks_secret_scope" "app" {'
    )
    result = analyze(message, source_system="databricks")

    assert result.category == C.PERMISSION


def test_dbt_log_timestamps_do_not_hide_the_error_class():
    # dbt prints "HH:MM:SS  " before every line; [DIVIDE_BY_ZERO] is SQLSTATE 22012 (data exception)
    message = (
        "10:02:03  Runtime Error in model fct_margin (models/fct_margin.sql)\n"
        "10:02:03    [DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0. SQLSTATE: 22012"
    )
    result = analyze(message, source_system="databricks")

    assert result.category == C.DATA_QUALITY


@pytest.mark.parametrize(
    "message",
    [
        "$ databricks clusters list\nError: JSONDecodeError: Expecting value: line 1 column 1 (char 0)",
        "Error: ValueError: No JSON object could be decoded",
    ],
)
def test_cli_that_got_no_json_from_its_api_is_configuration(message):
    assert analyze(message, source_system="databricks").category == C.CONFIGURATION


def test_sdk_without_credentials_is_configuration():
    # databricks-sdk unified authentication, when no method finds a credential
    message = "default auth: cannot configure default credentials, please check the authentication docs"

    assert analyze(message, source_system="databricks").category == C.CONFIGURATION


# ---------------------------------------------------------------------------------- generic wording, documented meaning
@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("The compression codec 'lz4' is not supported for the DelimitedText format.", C.CONFIGURATION),
        ("Invalid connection string: the keyword 'AccountName' is missing.", C.CONFIGURATION),
        ("Invalid URI: The hostname could not be parsed.", C.CONFIGURATION),
        ("A job cluster must have spark_version defined.", C.CONFIGURATION),
        # Unity Catalog PERMISSION_DENIED template: "User does not have <PRIVILEGE> on <securable> '<name>'"
        ("User does not have CREATE STORAGE CREDENTIAL on Metastore 'primary'.", C.PERMISSION),
        # Dataverse privilege check
        (
            "Principal user (Id=00000000-0000-0000-0000-000000000001, type=8) is missing prvReadContact privilege "
            "(Id=00000000-0000-0000-0000-000000000002) on OTC=2 for entity 'contact'.",
            C.PERMISSION,
        ),  # fmt: skip
        # Snowflake network policy
        ("IP 203.0.113.7 is not allowed to access Snowflake. Contact your local security administrator.", C.PERMISSION),
        ("The account key provided is incorrect.", C.PERMISSION),
        ("The remote server returned an error: (530) Not logged in.", C.PERMISSION),
        # ARM template limits and length limits stated with their numbers
        (
            "The template validation failed: 'The number of template parameters limit exceeded: maximum '256' and "
            "actual '301'.'",
            C.RESOURCE,
        ),  # fmt: skip
        ("Total length of commandLine cannot be more than 8192 characters", C.RESOURCE),
        # mapping data flow source projection
        (
            "at Source 'orders': Column 'qty has incompatible types( Found: DoubleType, Required: LongType)",
            C.DATA_QUALITY,
        ),
        # ADF JsonInvalidDataFormat
        (
            "Error occurred when deserializing source JSON file 'in/o.json'. Check if the data is in valid JSON object "
            "format.",
            C.DATA_QUALITY,
        ),  # fmt: skip
        # JDK value parser: java.sql.Timestamp.valueOf rejects input not in JDBC escape format
        (
            "java.lang.IllegalArgumentException: Timestamp format must be yyyy-mm-dd hh:mm:ss[.fffffffff]\n"
            "\tat java.sql.Timestamp.valueOf(Timestamp.java:204)",
            C.DATA_QUALITY,
        ),  # fmt: skip
        # ... while the same exception from a require() in user code is a code error
        (
            "java.lang.IllegalArgumentException: requirement failed: batch size must be positive\n"
            "\tat scala.Predef$.require(Predef.scala:281)",
            C.CODE,
        ),  # fmt: skip
        # Newtonsoft.Json JPath parser
        ("Unexpected character while parsing path query: $", C.CODE),
        ("The OData $filter expression is invalid.", C.CODE),
    ],
)
def test_generic_wording_maps_to_its_documented_class(message, category):
    result = analyze(message)

    assert result.category == category
    assert result.should_retry is False


# ------------------------------------------------------------------------------ documented codes and their wordings
def test_autoloader_new_fields_flagged_retryable_is_transient():
    # Auto Loader (addNewColumns) stops on purpose after recording new columns; its isRetryable parameter says so
    message = (
        "[UNKNOWN_FIELD_EXCEPTION.NEW_FIELDS_IN_FILE] Encountered unknown fields during parsing: [channel], which "
        "can be fixed by an automatic retry: {flag}"
    )
    retryable = analyze(message.format(flag="true"), source_system="databricks")
    final = analyze(message.format(flag="false"), source_system="databricks")

    assert (retryable.category, retryable.should_retry) == (C.TRANSIENT, True)
    assert final.should_retry is False


def test_delta_merge_duplicate_source_rows_in_the_older_wording_is_data_quality():
    message = (
        "java.lang.UnsupportedOperationException: Cannot perform MERGE as multiple source rows matched and attempted "
        "to update the same target row in the Delta table."
    )

    assert analyze(message).category == C.DATA_QUALITY


def test_long_adf_expression_that_cannot_be_evaluated_is_code():
    expression = "@concat(" + ", ".join(f"pipeline().parameters.p{i}" for i in range(12)) + ")"
    message = f"The expression '{expression}' cannot be evaluated because property 'p11' doesn't exist."

    assert analyze(message, source_system="adf").category == C.CODE


def test_sftp_missing_ssh_identification_in_either_wording_is_transient():
    message = "Server response does not contain SSH protocol identification."

    assert analyze(message, source_system="adf").category == C.TRANSIENT


def test_adf_code_2011_alone_decides_nothing():
    # 2011 is shared (Azure IR credential decryption, Synapse notebooks, SSIS in Fabric): only its text decides
    result = analyze("Operation on target Notebook1 failed: Processed HTTP request failed.", error_code="2011")

    assert result.category == C.UNKNOWN


def test_managed_library_install_failure_is_configuration():
    message = (
        "java.lang.RuntimeException: ManagedLibraryInstallFailed: org.apache.spark.SparkException: Process "
        "List(/databricks/python/bin/pip, install, pandas==9.9, --disable-pip-version-check) exited with code 1."
    )

    assert analyze(message, source_system="databricks").category == C.CONFIGURATION


def test_copy_activity_chain_with_entity_encoded_separators_is_judged_on_its_inner_exception():
    # the chain as some portals and exports show it, commas and quotes as HTML entities: an outer timeout (documented
    # transient) wraps a denied access, which must decide
    message = (
        "Failure happened on &apos;Sink&apos; side. ErrorCode=AdlsGen2TimeoutError&#44;&apos;Type=Microsoft."
        "DataTransfer.Common.Shared.HybridDeliveryException&#44;Message=Request to ADLS Gen2 account &apos;lake&apos; "
        "met timeout error.&#44;Source=x&#44;&apos;&apos;Type=System.UnauthorizedAccessException&#44;Message=Access "
        "to the path &apos;/raw/x&apos; is denied.&#44;Source=y&#44;&apos;"
    )
    result = analyze(message, source_system="adf")

    assert (result.category, result.should_retry) == (C.PERMISSION, False)
