"""Kinds of real errors the offline classifier must generalise to (issue 14, section 2): each kind is decided from a
documented meaning (error catalogue, enum, exception class, protocol), with guard cases for its neighbours.

The messages are composed here in the shapes the platforms print (driver prefixes, SDK wording, enum names, Go and
Python traceback layouts); they are not copied from any corpus."""

import itertools

import pytest

from aimsweb.choices import ErrorCategory
from incidents.analysis.offline import offline_classifier
from incidents.analysis.schema import AnalysisResult

T, R, C, P, D, X = (
    ErrorCategory.TRANSIENT,
    ErrorCategory.RESOURCE,
    ErrorCategory.CONFIGURATION,
    ErrorCategory.PERMISSION,
    ErrorCategory.DATA_QUALITY,
    ErrorCategory.CODE,
)


def classify(message: str, **kwargs: str) -> AnalysisResult:
    return offline_classifier().analyze(message, **kwargs)


def assert_verdict(message: str, category: ErrorCategory, *, retry: bool | None = None) -> None:
    result = classify(message)
    assert result.category == category, (message, result.summary, result.root_cause)
    expected_retry = category == T if retry is None else retry
    assert result.should_retry is expected_retry, (message, result.root_cause)


# ------------------------------------------------------------------ 1. TLS certificates inside connection wrappers
@pytest.mark.parametrize(
    "message",
    [
        # OpenSSL's verify error as ODBC Driver 18 reports it (TrustServerCertificate=no is its default)
        "ERROR [08S01] [Microsoft][ODBC Driver 18 for SQL Server]SSL Provider: [error:0A000086:SSL routines::"
        "certificate verify failed:unable to get local issuer certificate]",
        "ERROR [08001] [Microsoft][ODBC Driver 17 for SQL Server]SSL Provider: The certificate chain was issued by an "
        "authority that is not trusted.",
        # JSSE's path validation failure inside the Simba Spark JDBC driver's connection error
        "java.sql.SQLException: [Simba][SparkJDBCDriver](500593) Communication link failure. Failed to connect to "
        "server. Reason: javax.net.ssl.SSLHandshakeException: PKIX path building failed: "
        "sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to "
        "requested target",
        "Error occurred while trying to connect: SSL error: certificate verify failed (self signed certificate in "
        "certificate chain)",
        # libpq-style host name check (RFC 6125) under a class 08 SQLSTATE
        "SQLSTATE 08006: could not connect to server: SSL error: hostname mismatch for the server certificate",
        "requests.exceptions.SSLError: HTTPSConnectionPool(host='adb-1.azuredatabricks.net', port=443): Max retries "
        "exceeded with url: /api/2.1/jobs/runs/get (Caused by SSLError(SSLCertVerificationError(1, "
        "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self signed certificate in certificate chain')))",
        "Communication link failure: x509: certificate signed by unknown authority",
        "javax.net.ssl.SSLPeerUnverifiedException: Certificate for <db.example.com> doesn't match any of the subject "
        "alternative names: [other.example.com]",
    ],
)
def test_untrusted_certificate_inside_a_connection_wrapper_is_permission_never_retried(message):
    assert_verdict(message, P)


@pytest.mark.parametrize(
    "message",
    [
        # no certificate words: a handshake that timed out or a TLS stream cut short is a network blip
        "Communication link failure: SSL handshake timed out",
        "ssl.SSLEOFError: EOF occurred in violation of protocol (_ssl.c:2426)",
        "ERROR [08S01] [Microsoft][ODBC Driver 18 for SQL Server]TCP Provider: An existing connection was forcibly "
        "closed by the remote host.",
        "Error occurred while trying to connect: Connection refused",
    ],
)
def test_connection_failures_without_certificate_words_stay_transient(message):
    assert_verdict(message, T)


def test_a_class_08_sqlstate_alone_is_still_a_transient_connection_failure():
    assert_verdict("SQLSTATE 08001: unable to establish SQL connection", T)


def test_a_login_timeout_alone_is_still_transient():
    assert_verdict("ERROR [HYT00] [Microsoft][ODBC Driver 18 for SQL Server]Login timeout expired", T)


def test_a_listed_08_subclass_keeps_its_own_meaning():
    assert_verdict("SQLSTATE 08004: the server rejected the establishment of the connection", P)


# --------------------------------------------------------------- 2. termination reasons printed as Title Case words
@pytest.mark.parametrize(
    ("message", "category"),
    [
        ("Cluster terminated. Reason: Network Configuration Failure", C),
        ("Cluster 0123-456789-abcde terminated. Reason: Azure Vnet Configuration Failure. Help: see the docs", C),
        ("Cluster terminated. Reason: Cloud Provider Launch Failure", T),
        ("Cluster was terminated. Reason: Driver Unreachable", T),
        ("The cluster terminated. Reason: Spark Startup Failure", T),
        ("Cluster terminated. Reason: Secret Resolution Error (CLIENT_ERROR)", C),
        ("Cluster terminated. Reason: Instance Pool Max Capacity Reached", R),
        ("Cluster terminated. Reason: Access Token Failure", P),
        # the cluster event log writes the same enum in sentence case
        ("Termination reason: Azure resource manager throttling", T),
        # a termination type alone, in words
        ("Run terminated. Reason: Cloud Failure", T),
    ],
)
def test_a_termination_reason_in_words_is_read_as_its_code(message, category):
    assert_verdict(message, category)


@pytest.mark.parametrize(
    "message",
    [
        "Cluster terminated. Reason: User Request",  # USER_REQUEST: only says the run ended
        "Cluster terminated. Reason: Inactivity",
        "Failed to connect to server. Reason: Network Configuration Failure",  # not a termination
        "Cluster terminated. Reason: Some Words That Name No Code",
    ],
)
def test_termination_words_without_a_deciding_code_decide_nothing(message):
    result = classify(message)
    assert result.category == ErrorCategory.UNKNOWN, result.summary
    assert not result.should_retry


def test_a_launch_failure_with_an_arm_code_rejecting_the_request_is_not_retried():
    # ARM common deployment errors: InvalidParameter rejects the request as written
    message = (
        "Cluster terminated. Reason: Cloud Provider Launch Failure\nAzure error code: InvalidParameter\n"
        "Azure error message: The value of parameter imageReference is invalid."
    )
    assert_verdict(message, C)


def test_a_launch_failure_with_a_capacity_code_is_still_retried():
    message = (
        "Cluster terminated. Reason: Cloud Provider Launch Failure\nAzure error code: AllocationFailed\n"
        "Azure error message: Allocation failed. We do not have sufficient capacity for the requested VM size."
    )
    assert_verdict(message, T)


# ------------------------------------------------------------------------------------------ 3. Go run-time panics
@pytest.mark.parametrize(
    "message",
    [
        "panic: runtime error: invalid memory address or nil pointer dereference\n"
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x1c2f3a4]\n\n"
        "goroutine 1 [running]:\ngithub.com/databricks/cli/bundle.(*Bundle).Load(0x0)\n",
        "Error: Plugin did not respond\n\nStack trace from the terraform-provider-databricks_v1.40.0 plugin:\n\n"
        "panic: runtime error: index out of range [0] with length 0\n\ngoroutine 142 [running]:\n",
        "panic: assignment to entry in nil map\n\ngoroutine 7 [running]:\nmain.main()\n",
        "fatal error: concurrent map writes\n\ngoroutine 23 [running]:\n",
        "panic: interface conversion: interface {} is nil, not string",
        # a timeout word in the trace does not make a crash transient
        "Error: request timed out\npanic: runtime error: slice bounds out of range [:5] with capacity 3",
    ],
)
def test_a_go_runtime_panic_is_a_code_defect_never_retried(message):
    assert_verdict(message, X)


def test_a_go_panic_whose_value_names_a_timeout_keeps_that_cause_but_is_not_rerun():
    # a weak timeout contested by the crash is reported as transient and left to a person
    message = "panic: read tcp 10.0.0.4:443: i/o timeout\n\ngoroutine 1 [running]:\nmain.main()\n"
    assert_verdict(message, T, retry=False)


def test_goroutine_words_without_a_panic_decide_nothing_new():
    assert_verdict("Error: failed to read the state: connection timed out (goroutine pool busy)", T)


# ------------------------------------------------------------------ 4. concurrency limits are throttling, sizes not
@pytest.mark.parametrize(
    "message",
    [
        "Exceeded the maximum number of concurrent queries allowed for this warehouse (10).",
        "Error: exceeded the maximum number of concurrent requests allowed (200)",
        "The maximum number of concurrent sessions (50) has been exceeded for user etl",
        "Exceeded the maximum number of concurrent connections allowed for this server",
        "Too many concurrent requests",
        "MAX_CONCURRENT_RUNS_EXCEEDED: Maximum concurrent runs reached",
        "Run skipped: the job already has the maximum number of concurrent runs (1) active",
        "the number of concurrent jobs exceeds the maximum allowed of 5",
    ],
)
def test_a_concurrency_limit_is_throttling_and_retried(message):
    assert_verdict(message, T)


@pytest.mark.parametrize(
    "message",
    [
        "The result set exceeded the maximum number of rows allowed (1000000)",
        "Query result exceeds the maximum size allowed of 10 GB",
        "MAX_NOTEBOOK_SIZE_EXCEEDED: the notebook exceeds the maximum size",
    ],
)
def test_a_size_or_row_limit_stays_resource(message):
    assert_verdict(message, R)


# ------------------------------------------------------------------- 5. client authentication not configured at all
@pytest.mark.parametrize(
    "message",
    [
        "Error: No auth configured",
        "Error: Authentication is not configured for provider. Please configure it through one of the following "
        "options: 1. DATABRICKS_HOST + DATABRICKS_TOKEN environment variables.",
        "Error: cannot configure default credentials, please check the unified authentication docs",
        "DATABRICKS_HOST is not set",
        "Error: cannot resolve bundle auth configuration: DATABRICKS_HOST environment variable is not set",
    ],
)
def test_missing_client_authentication_is_configuration(message):
    assert_verdict(message, C)


def test_a_presented_credential_that_is_rejected_stays_permission():
    assert_verdict("Error: failed to authenticate: 401 Unauthorized: invalid access token", P)


# ---------------------------------------------------------------------- 6. Delta "Incompatible format detected"
@pytest.mark.parametrize(
    "message",
    [
        "org.apache.spark.sql.AnalysisException: Incompatible format detected.\n\nYou are trying to write to "
        "`/mnt/raw/sales` using Databricks Delta, but there is no transaction log present.",
        "AnalysisException: Incompatible format detected.\nA transaction log for Delta was found at "
        '`/mnt/curated/t/_delta_log`, but you are trying to read from `/mnt/curated/t` using format("parquet").',
        "[DELTA_MISSING_TRANSACTION_LOG] Incompatible format detected.",
    ],
)
def test_delta_incompatible_format_is_configuration(message):
    assert_verdict(message, C)


def test_incompatible_format_words_without_delta_decide_nothing():
    assert classify("Incompatible format detected in the video upload").category == ErrorCategory.UNKNOWN


# --------------------------------------------------- 7. AttributeError: library frames only vs. user code involved
LIBRARY_ONLY = (
    "Traceback (most recent call last):\n"
    '  File "/databricks/python/lib/python3.10/site-packages/dbt/main.py", line 12, in <module>\n'
    "    from dbt.adapters import factory\n"
    '  File "/local_disk0/.ephemeral_nfs/envs/pythonEnv-1/lib/python3.10/site-packages/pyarrow/pandas_compat.py", '
    "line 5, in <module>\n"
    "    _np_bool = np.bool\n"
    "AttributeError: module 'numpy' has no attribute 'bool'"
)
NOTEBOOK_LIBRARY_ONLY = (
    "AttributeError                            Traceback (most recent call last)\n"
    "File /databricks/python/lib/python3.10/site-packages/mlflow/models/__init__.py:3, in <module>\n"
    "----> 3 Pipeline.from_config(cfg)\n"
    "AttributeError: type object 'Pipeline' has no attribute 'from_config'"
)


@pytest.mark.parametrize("message", [LIBRARY_ONLY, NOTEBOOK_LIBRARY_ONLY])
def test_attribute_error_raised_between_libraries_is_an_incompatible_dependency(message):
    assert_verdict(message, C)


@pytest.mark.parametrize(
    "message",
    [
        # a user frame calls into the library: the user's code decides
        LIBRARY_ONLY.replace(
            "Traceback (most recent call last):\n",
            'Traceback (most recent call last):\n  File "/Workspace/Repos/etl/job.py", line 4, in <module>\n'
            "    run()\n",
        ),
        NOTEBOOK_LIBRARY_ONLY.replace("File /databricks", "File <command-4242>:2\n----> 2 load()\nFile /databricks"),
        # no trace at all: nothing says where it was raised
        "AttributeError: module 'numpy' has no attribute 'bool'",
        # a None value inside a library is a data or caller defect, not a version mismatch
        "Traceback (most recent call last):\n"
        '  File "/opt/venv/lib/python3.11/site-packages/lib/x.py", line 5, in f\n'
        "AttributeError: 'NoneType' object has no attribute 'split'",
    ],
)
def test_attribute_error_with_user_code_or_without_trace_stays_code(message):
    assert_verdict(message, X)


# ----------------------------------------------- 8. no retry when the innermost cause is plainly not transient
RETRY_SUGGESTING_WRAPPERS = (
    "ERROR [08S01] [Microsoft][ODBC Driver 18 for SQL Server]{cause}",
    "java.sql.SQLException: [Simba][SparkJDBCDriver](500593) Communication link failure. Failed to connect to "
    "server. Reason: {cause}",
    "SQLSTATE 08001: Error occurred while trying to connect: {cause}",
    # ODBC lists one diagnostic record per line; a login timeout record sits next to the one naming the cause
    "ERROR [HYT00] [Microsoft][ODBC Driver 18 for SQL Server]Login timeout expired\n"
    "ERROR [08001] [Microsoft][ODBC Driver 18 for SQL Server]{cause}",
    "Cluster terminated. Reason: Cloud Provider Launch Failure\nAzure error code: InvalidParameter\n"
    "Azure error message: {cause}",
    "Communication link failure: {cause}",
    "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='h', port=443): Max retries exceeded with url: "
    "/api (Caused by {cause})",
    "A transient error occurred, please retry the operation. Details: {cause}",
    "The request timed out after 3 attempts. Last error: {cause}",
    "Connection reset while reading the response; the server said: {cause}",
    "HTTP 503 Service Unavailable from the gateway. Upstream: {cause}",
    "Py4JJavaError: An error occurred while calling o123.load.\n: {cause}",
    "Job aborted due to stage failure: Task 0 in stage 1.0 failed 4 times, most recent failure: Lost task 0.0 "
    "(TID 3) (10.0.0.1 executor 1): {cause}",
    "Operation on target Copy data1 failed: ErrorCode=SqlFailedToConnect,'Type=Microsoft.DataTransfer.Common.Shared."
    "HybridDeliveryException,Message=Cannot connect to SQL Database. Communication link failure,Source=,''Type="
    "System.Data.SqlClient.SqlException,Message={cause},Source=.Net SqlClient Data Provider,'",
)
NON_TRANSIENT_CAUSES = (
    # certificate
    "SSL Provider: certificate verify failed: unable to get local issuer certificate",
    "javax.net.ssl.SSLHandshakeException: PKIX path building failed: unable to find valid certification path",
    # credential
    "Login failed for user 'etl'.",
    "AADSTS7000215: Invalid client secret provided.",
    "The password of account 'etl' has expired.",
    # permission
    "java.nio.file.AccessDeniedException: /mnt/raw/x",
    "PERMISSION_DENIED: User does not have SELECT on Table 'main.s.t'.",
    "This request is not authorized to perform this operation using this permission. Status code 403",
    # missing object
    "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`s`.`t` cannot be found.",
    "Invalid object name 'dbo.sales'.",
    "The specified container does not exist.",
    "java.net.UnknownHostException: myserver.database.windows.net",
    # invalid value
    '[CAST_INVALID_INPUT] The value \'abc\' of the type "STRING" cannot be cast to "INT" because it is malformed.',
    'java.lang.NumberFormatException: For input string: "x1"',
    # syntax
    "[PARSE_SYNTAX_ERROR] Syntax error at or near 'FROM'.",
    "Incorrect syntax near 'WHERE'.",
)


def test_no_retry_when_the_innermost_cause_is_not_transient():
    retried = [
        message
        for wrapper, cause in itertools.product(RETRY_SUGGESTING_WRAPPERS, NON_TRANSIENT_CAUSES)
        if classify(message := wrapper.format(cause=cause)).should_retry
    ]
    assert retried == []


@pytest.mark.parametrize(
    "cause",
    [
        "TCP Provider: An existing connection was forcibly closed by the remote host.",
        "Connection reset by peer",
        "Read timed out",
    ],
)
def test_a_transient_cause_inside_the_same_wrappers_is_still_retried(cause):
    connection_wrappers = [w for w in RETRY_SUGGESTING_WRAPPERS if "ERROR [" in w or "Communication link" in w]
    assert len(connection_wrappers) == 5
    for wrapper in connection_wrappers:
        message = wrapper.format(cause=cause)
        assert classify(message).should_retry, message


# ------------------------------------------------------ 9. a documented code of the failure contests a network symptom
def _activity_error(code: str, message: str) -> str:
    return (
        f'{{"errorCode": "{code}", "message": "{message}", "failureType": "UserError", "target": "Custom1", '
        '"details": ""}'
    )


def test_documented_non_transient_code_stops_a_retry_on_generic_network_wording():
    """ADF 2510 (the troubleshooting guide: the Batch account URL is invalid) with the .NET HttpClient's generic
    "An error occurred while sending the request" must not be rerun: the code names the cause, the words only a
    symptom."""
    message = _activity_error("2510", "An error occurred while sending the request.")

    result = classify(message, error_code="2510", source_system="adf")

    assert result.should_retry is False, result.root_cause


def test_documented_transient_code_with_the_same_wording_still_retries():
    """ADF 3208 (the guide: the network connection to Databricks was interrupted) is transient by its documentation,
    so the same wording is retried."""
    message = _activity_error("3208", "An error occurred while sending the request.")

    result = classify(message, error_code="3208", source_system="adf")

    assert (result.category, result.should_retry) == (T, True), result.root_cause


def test_platform_remedy_in_an_outer_layer_stops_a_retry_on_an_inner_timeout():
    """A copy activity chain whose own message names a longer timeout setting as the remedy (a camelCase setting
    name, as ADF writes them) around the .NET timeout it caught: an identical rerun times out again."""
    message = (
        "Failure happened on 'Source' side. ErrorCode=UserErrorSomeHttpTimeout,'Type=Microsoft.DataTransfer.Common."
        "Shared.HybridDeliveryException,Message=Reading the file timed out, please specify a longer requestTimeout "
        "in the dataset.,Source=Microsoft.DataTransfer.ClientLibrary,''Type=System.Net.WebException,Message=The "
        "operation has timed out,Source=System,'"
    )

    result = classify(message, source_system="adf")

    assert result.should_retry is False, result.root_cause
