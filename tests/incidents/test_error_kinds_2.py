"""A last round of error kinds the offline classifier must generalise to (issue 14, section 2): each kind is decided
from its documented meaning (Spark error classes, the ADF copy activity's error codes, Azure SQL's resource governance
and engine error numbers), with guard cases for the neighbours that share its words.

The messages are composed here in the shapes the platforms print; they are not copied from any corpus."""

import pytest

from aimsweb.choices import ErrorCategory
from incidents.analysis.offline import offline_classifier
from incidents.analysis.taxonomy import taxonomy

T, R, C, D, X = (
    ErrorCategory.TRANSIENT,
    ErrorCategory.RESOURCE,
    ErrorCategory.CONFIGURATION,
    ErrorCategory.DATA_QUALITY,
    ErrorCategory.CODE,
)


def assert_verdict(message: str, category: ErrorCategory) -> None:
    result = offline_classifier().analyze(message)
    assert result.category == category, (message, result.summary, result.root_cause)
    assert result.should_retry is (category == T), (message, result.root_cause)


# ------------------------------------------------------------------ 1. a file's column count against its schema
@pytest.mark.parametrize(
    "message",
    [
        # Spark's CSV header check (enforceSchema=false) reported through an IllegalArgumentException
        "java.lang.IllegalArgumentException: Number of column in CSV header is not equal to number of fields in the "
        "schema:\n Header length: 7, schema size: 8",
        "The number of columns in the ORC file is not equal to the number of fields in the StructType: 12 vs 10",
        "Column count of the source file part-0003.csv (7) does not match the column count of the schema (8).",
    ],
)
def test_file_columns_that_do_not_match_the_schema_are_data_quality(message):
    assert_verdict(message, D)


def test_statement_column_list_against_its_values_is_not_a_file_shape_problem():
    # MySQL 1136: an INSERT whose column list and VALUES differ is a defect of the statement, not of the data
    result = offline_classifier().analyze("Column count doesn't match value count at row 1")
    assert result.category != D


# ------------------------------------------------------------------ 2. ADF UserErrorFailedToDeserialize<Format>Source
@pytest.mark.parametrize(
    "message",
    [
        # the copy activity's chained error; the file name arrives HTML-escaped as it does in ADF's activity output
        "ErrorCode=UserErrorFailedToDeserializeAvroSource,'Type=Microsoft.DataTransfer.Common.Shared."
        "HybridDeliveryException,Message=Failed to deserialize Avro source file &apos;landing/part-0001.avro&apos;. "
        "This could be caused by invalid Avro data.,Source=Microsoft.DataTransfer.ClientLibrary,'",
        "Failed to deserialize Parquet source file 'sales/2024/01.parquet'. Check for invalid Parquet data.",
        "Failed to deserialize ORC source data. The input holds invalid ORC data.",
    ],
)
def test_source_that_cannot_be_deserialised_as_its_format_is_data_quality(message):
    assert_verdict(message, D)


def test_failed_to_deserialize_a_service_response_is_not_source_data():
    # an SDK that could not read an error page of a 503 answer: the service, not the data, failed
    assert_verdict("Failed to deserialize JSON response: HTTP 503 Service Unavailable", T)


# ------------------------------------------------------------------ 3. Azure SQL resource governance
@pytest.mark.parametrize(
    "message",
    [
        "The session has been terminated because of excessive memory usage. Try modifying your query to process "
        "fewer rows.",
        "Msg 40552, Level 16, State 1: The session has been terminated because of excessive transaction log space "
        "usage. Try modifying fewer rows in a single transaction.",
        "SqlErrorNumber=40551 The session has been terminated because of excessive tempdb usage.",
    ],
)
def test_session_ended_by_resource_governance_is_resource_and_not_retried(message):
    assert_verdict(message, R)


def test_database_not_currently_available_stays_transient():
    assert_verdict(
        "Database 'sales' on server 'srv' is not currently available. Please retry the connection later. "
        "Error code 40613.",
        T,
    )


# ------------------------------------------------------------------ 4. Spark heap below its minimum
@pytest.mark.parametrize(
    "message",
    [
        "[INVALID_DRIVER_MEMORY] System memory 259522560 must be at least 471859200. Please increase heap size using "
        'the --driver-memory option or "spark.driver.memory" in Spark configuration.',
        "java.lang.IllegalArgumentException: Executor memory 209715200 must be at least 471859200. Please increase "
        "executor memory using the --executor-memory option.",
    ],
)
def test_heap_below_sparks_minimum_is_resource(message):
    assert_verdict(message, R)


def test_an_illegal_argument_without_a_memory_minimum_stays_code():
    assert_verdict("java.lang.IllegalArgumentException: requirement failed: Window size must be positive", X)


# ------------------------------------------------------------------ 5. SQL Server 6005
@pytest.mark.parametrize(
    "message",
    [
        "Msg 6005, Level 14, State 2: SHUTDOWN is in progress.",
        # the login refusal SQL Server adds while it stops does not make it a credentials problem
        "Microsoft.Data.SqlClient.SqlException (0x80131904): SHUTDOWN is in progress. Login failed for user 'etl'. "
        "Only administrators may connect at this time.",
    ],
)
def test_server_shutting_down_is_transient_and_retried(message):
    assert_verdict(message, T)


def test_plain_login_failure_stays_permission():
    assert_verdict(
        "Microsoft.Data.SqlClient.SqlException (0x80131904): Login failed for user 'etl'.", ErrorCategory.PERMISSION
    )


# ------------------------------------------------------------------ 6. error classes naming a missing object or setting
@pytest.mark.parametrize(
    "message",
    [
        '[SQL_CONF_NOT_FOUND] The SQL config "spark.sql.legacy.foo" cannot be found. Please verify that the config '
        "exists.",
        "[VOLUME_NOT_FOUND] Volume `main`.`raw`.`landing` does not exist.",
        "[CREDENTIAL_NOT_FOUND] Credential `adls_reader` not found.",
        "[EXTERNAL_LOCATION_NOT_FOUND] External location `raw_zone` not found.",
    ],
)
def test_error_class_naming_a_missing_object_or_setting_is_configuration(message):
    assert_verdict(message, C)


@pytest.mark.parametrize("error_class", ["SQL_CONF_NOT_FOUND", "CATALOG_NOT_FOUND", "SCHEMA_NOT_FOUND"])
def test_class_name_outranks_its_sqlstate_in_the_taxonomy(error_class):
    verdicts = [v for v in taxonomy().verdicts(f"[{error_class}] x") if v.layer == "spark_error_class"]
    assert [v.category for v in verdicts] == [C]


@pytest.mark.parametrize(
    "message",
    [
        "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column, variable, or function parameter with name `amt` cannot be "
        "resolved. Did you mean one of the following? [`amount`].",
        "[UNRESOLVED_ROUTINE] Cannot resolve routine `clean_name` on search path [`system`.`builtin`].",
        "[ROUTINE_NOT_FOUND] The routine `main`.`default`.`clean_name` cannot be found.",
        "[COLUMN_NOT_FOUND] The column `amt` cannot be found.",
    ],
)
def test_unresolved_columns_and_routines_stay_code(message):
    assert_verdict(message, X)


# ------------------------------------------------------------------ 7. FAILFAST parsers meeting malformed input
@pytest.mark.parametrize(
    "message",
    [
        "[MALFORMED_PROTOBUF_MESSAGE] Malformed Protobuf messages are detected in message deserialization. Parse "
        "Mode: FAILFAST. To process malformed protobuf message as null result, try setting the option 'mode' as "
        "'PERMISSIVE'.",
        "org.apache.spark.SparkException: Malformed JSON rows detected while parsing part-0001.json",
        "Malformed Avro messages are detected in message deserialization. Parse Mode: FAILFAST.",
    ],
)
def test_malformed_input_detected_by_a_failfast_parser_is_data_quality(message):
    assert_verdict(message, D)


def test_malformed_rest_request_stays_configuration():
    # the Databricks REST API's MALFORMED_REQUEST is a job settings body it refused, not bad data
    assert_verdict("MALFORMED_REQUEST: Invalid JSON given in the body of the request - expected a map", C)


# ------------------------------------------------------------------ 8. a value longer than its type allows
@pytest.mark.parametrize(
    "message",
    [
        "[EXCEED_LIMIT_LENGTH] Exceeds char/varchar type length limitation: 20. SQLSTATE: 54006",
        "String or binary data would be truncated in table 'dbo.Customer', column 'City'. Truncated value: 'Llan'.",
        "ERROR: value too long for type character varying(32)",
    ],
)
def test_value_longer_than_its_type_is_data_quality_not_resource(message):
    assert_verdict(message, D)


def test_a_size_limit_of_the_job_stays_resource():
    assert_verdict(
        "Total size of serialized results of 12 tasks (4.1 GiB) is bigger than spark.driver.maxResultSize (4.0 GiB)",
        R,
    )
