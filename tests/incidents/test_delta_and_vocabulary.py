"""Delta Lake's error classes in the SQLSTATE table, and kinds of wording the classifier used to leave `unknown`.

Error class names and their SQLSTATEs come from delta-io/delta spark/src/main/resources/error/delta-error-classes.json
(@ bb1057f4367f555b01e299fd1690d85aafc0ac4c) and apache/spark error-conditions.json; every message text was composed
for these tests in the platforms' wording (no row of a labelled set), with made-up names, paths and values. Each
vocabulary kind has positive cases and guards: the neighbouring class that shares words with it stays with that class.
"""

import json

import pytest

from aimsweb.choices import ErrorCategory
from incidents.analysis.offline import offline_classifier
from incidents.analysis.taxonomy import SPARK_SQLSTATES, TAXONOMY_DIR, taxonomy
from scripts.generate_spark_sqlstates import ConflictError, Source, main, merged_sqlstates

C = ErrorCategory


def analyze(message: str):
    return offline_classifier().analyze(message)


# ------------------------------------------------------------------------------------------- the merged table
def test_generator_merges_sources_and_records_each_with_its_commit(tmp_path):
    spark = tmp_path / "error-conditions.json"
    delta = tmp_path / "delta-error-classes.json"
    spark.write_text(json.dumps({"B_SPARK": {"message": ["m"], "sqlState": "42P01"}, "NO_STATE": {"message": ["m"]}}))
    delta.write_text(json.dumps({"DELTA_A": {"message": ["m"], "sqlState": "2D521"}}))
    output = tmp_path / "table.json"

    main(
        ["--source", "apache/spark", "errors.json", "c1", str(spark)]
        + ["--source", "delta-io/delta", "delta.json", "c2", str(delta), "--output", str(output)]
    )

    document = json.loads(output.read_text())
    assert document["sources"] == ["apache/spark errors.json @ c1", "delta-io/delta delta.json @ c2"]
    assert document["error_classes"] == {"B_SPARK": "42P01", "DELTA_A": "2D521"}


def test_generator_refuses_a_class_two_sources_map_to_different_states():
    first = Source("apache/spark", "a.json", "c1", {"SAME": {"sqlState": "42P01"}})
    second = Source("delta-io/delta", "b.json", "c2", {"SAME": {"sqlState": "22003"}})

    with pytest.raises(ConflictError, match="SAME"):
        merged_sqlstates([first, second])
    assert merged_sqlstates([first, first]) == {"SAME": "42P01"}


def test_table_holds_delta_classes_from_the_delta_catalogue():
    document = json.loads((TAXONOMY_DIR / SPARK_SQLSTATES).read_text())
    tables = taxonomy()

    assert any(source.startswith("delta-io/delta ") for source in document["sources"])
    assert sum(name.startswith("DELTA_") for name in tables.spark_sqlstates) >= 500
    assert tables.spark_sqlstates["DELTA_CONCURRENT_APPEND"] == "2D521"
    assert tables.spark_sqlstates["DELTA_MAX_COMMIT_RETRIES_EXCEEDED"] == "40000"
    assert all(tables.sqlstate(state) for state in tables.spark_sqlstates.values())


# ------------------------------------------------------------------------------------- Delta classes, classified
@pytest.mark.parametrize(
    ("message", "category"),
    [
        # the concurrent-commit family (2D521) and exhausted commit retries (40000): a rerun reads the new version
        (
            "[DELTA_CONCURRENT_APPEND] Transaction conflict detected. a concurrent WRITE added data to table t",
            C.TRANSIENT,
        ),
        ("[DELTA_CONCURRENT_DELETE_READ] Transaction conflict detected, a concurrent DELETE removed data", C.TRANSIENT),
        (
            "[DELTA_PROTOCOL_CHANGED] The protocol version of the Delta table has been changed by a concurrent update.",
            C.TRANSIENT,
        ),
        ("[DELTA_MAX_COMMIT_RETRIES_EXCEEDED] This commit has failed as it has been tried 120 times.", C.TRANSIENT),
        # other Delta classes get their SQLSTATE's class
        (
            "[DELTA_CAST_OVERFLOW_IN_TABLE_WRITE] Failed to write a value of BIGINT into the INT column qty.",
            C.DATA_QUALITY,
        ),
        ("[DELTA_NO_COMMITS_FOUND] No commits found at dbfs:/mnt/lake/orders/_delta_log", C.CONFIGURATION),
        (
            "[DELTA_CONFIGURE_SPARK_SESSION_WITH_EXTENSION_AND_CATALOG] This Delta operation needs the extension.",
            C.CONFIGURATION,
        ),
        (
            "[DELTA_CANNOT_REPLACE_MISSING_TABLE] Table main.sales.daily cannot be replaced as it does not exist.",
            C.CONFIGURATION,
        ),
        # a Spark class newer than the previous table (SQLSTATE class 82, out of memory)
        ("[SPILL_OUT_OF_MEMORY] Error while calling spill() on a sorter", C.RESOURCE),
    ],
)
def test_a_delta_error_class_gets_its_documented_class(message, category):
    result = analyze(message)

    assert result.category == category
    assert result.should_retry == (category == C.TRANSIENT)


@pytest.mark.parametrize(
    "message",
    [
        # 2D521 also files invalid commits that need a fix, not a rerun
        "[DELTA_DUPLICATE_ACTIONS_FOUND] File operation 'add' for path p1.parquet was specified several times.",
        # 22KD0, documented as "transient", here means waiting for a retention period of days
        "[DELTA_FEATURE_DROP_WAIT_FOR_RETENTION_PERIOD] Dropping deletionVectors was partially successful.",
    ],
)
def test_a_delta_class_whose_sqlstate_is_shared_by_a_non_transient_cause_is_not_retried(message):
    result = analyze(message)

    assert not result.should_retry
    assert result.category != C.TRANSIENT


# --------------------------------------------------------------------------------------------- vocabulary kinds
@pytest.mark.parametrize(
    ("message", "category"),
    [
        # permission: a named privilege or permission missing on an object
        ("Identity 'etl-runner' does not have WRITE permission on container 'landing'", C.PERMISSION),
        ("svc_loader does not have CAN_MANAGE permission for job 4411", C.PERMISSION),
        ("The managed identity does not have permission to list keys of vault kv-finance", C.PERMISSION),
        # permission: a file system or share path refused
        ("Access to the path 'E:\\drop\\orders_0612.csv' is denied.", C.PERMISSION),
        ("Access to '\\\\files02\\exports\\daily' is not allowed", C.PERMISSION),
        # permission: the storage given to the job refuses it
        ("Cannot access the storage container you provided; check its key and network rules.", C.PERMISSION),
        ("We could not access the Azure Blob account you specified for staging", C.PERMISSION),
        # resource: the disk is full
        ("Write of chunk 12 failed: There isn't enough space on the disk.", C.RESOURCE),
        ("The temp volume of node IR-02 does not have enough free space for the staged file", C.RESOURCE),
        ("Insufficient disk space on the integration runtime host", C.RESOURCE),
        # configuration: a retired connector or version
        (
            "The Azure Database for MariaDB connector has been deprecated. Create a new linked service with the MySQL "
            "connector.",
            C.CONFIGURATION,
        ),
        ("Linked service version 1.0 is retired; upgrade the linked service to version 2.0", C.CONFIGURATION),
        # configuration: the driver reached something that is not its server (Simba/Cloudera DriverSupport 1110/1170)
        (
            "[Simba][SparkJDBCDriver](500593) Communication link failure. Failed to connect to server. Reason: "
            "[Simba][DriverSupport](1170) Unexpected response received from server. Please ensure the server host "
            "and port specified for the connection are correct.",
            C.CONFIGURATION,
        ),
        (
            "ERROR [HY000] [Cloudera][DriverSupport] (1110) Unexpected response received from server. Please ensure "
            "the server host and port specified for the connection are correct.",
            C.CONFIGURATION,
        ),
        # configuration: an option given a value it does not accept
        ("The value for option 'compressionCodec' is invalid. Allowed: gzip, snappy.", C.CONFIGURATION),
        ("Invalid value 'pipe' for property 'columnDelimiter'", C.CONFIGURATION),
        ("Parameter 'maxRowsPerFile' has an invalid value", C.CONFIGURATION),
        # data quality: FAILED_READ_FILE whose cause is a bad file
        (
            "[FAILED_READ_FILE.CANNOT_READ_FILE_FOOTER] Encountered error while reading file dbfs:/mnt/in/a.orc. "
            "Could not read footer. Please ensure that the file is in either ORC or Parquet format. SQLSTATE: KD001",
            C.DATA_QUALITY,
        ),
        (
            "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file s3://in/b.parquet. SQLSTATE: KD001\n"
            "Caused by: java.lang.RuntimeException: s3://in/b.parquet is not a Parquet file. Expected magic number at "
            "tail, but found [12, 0, 0, 9]",
            C.DATA_QUALITY,
        ),
        # data quality: the source repeats a column name
        (
            "Duplicate columns with same name 'order_id' are detected from source. Rename them in the source.",
            C.DATA_QUALITY,
        ),
        ("Duplicated column names order_id found in the source header", C.DATA_QUALITY),
    ],
)
def test_a_kind_of_wording_gets_its_class(message, category):
    result = analyze(message)

    assert result.category == category
    assert not result.should_retry


@pytest.mark.parametrize(
    ("message", "category"),
    [
        # FAILED_READ_FILE whose cause is a missing file or a refusal stays with that cause
        (
            "[FAILED_READ_FILE.FILE_NOT_EXIST] Encountered error while reading file s3://in/c.parquet. File does not "
            "exist. It is possible the underlying files have been updated. SQLSTATE: KD001",
            C.CONFIGURATION,
        ),
        (
            "[FAILED_READ_FILE.CANNOT_READ_FILE_FOOTER] Encountered error while reading file abfss://raw@lake.dfs."
            'core.windows.net/d.parquet. SQLSTATE: KD001\nCaused by: Operation failed: "This request is not authorized '
            'to perform this operation using this permission.", 403, GET, AuthorizationPermissionMismatch',
            C.PERMISSION,
        ),
        (
            "[FAILED_READ_FILE.NO_HINT] Encountered error while reading file /mnt/x/e.csv.\n"
            "Caused by: java.io.FileNotFoundException: /mnt/x/e.csv (No such file or directory)",
            C.CONFIGURATION,
        ),
        # an HTTP 503 behind a driver's "unexpected response" is still a server that is briefly away
        (
            "[Simba][ThriftExtension] (14) Unexpected response from server during a HTTP connection: "
            "THTTPClient::Open: HTTP response code: 503",
            C.TRANSIENT,
        ),
        # the value of a column is data, not a setting
        ("Invalid value for column 'amount' in row 17: 'abc' is not a number.", C.DATA_QUALITY),
        # a duplicate column the query author wrote is the query's defect
        ("[COLUMN_ALREADY_EXISTS] The column `id` already exists. Choose another name. SQLSTATE: 42711", C.CODE),
        # a library's deprecation warning next to the real error is not the cause
        (
            "FutureWarning: the 'delim_whitespace' keyword is deprecated and will be removed in a future version.\n"
            "Traceback (most recent call last):\n  File \"/job.py\", line 3, in <module>\nKeyError: 'customer_id'",
            C.CODE,
        ),
        # a storage account that is briefly away is not a refusal
        ("Access to the storage account is temporarily unavailable; retry later.", C.TRANSIENT),
        # a container that does not exist is a wrong setting, not a refusal
        ("Failed to access the container: The specified container does not exist.", C.CONFIGURATION),
    ],
)
def test_a_neighbouring_wording_keeps_its_own_class(message, category):
    assert analyze(message).category == category
