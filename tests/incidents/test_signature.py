"""Signatures: the same cause gives the same signature, different causes different ones."""

import pytest

from incidents.analysis.signature import signature_of

SAME_CAUSE = [
    (
        "Operation on target Copy orders failed: ErrorCode=SqlFailedToConnect,'Type=Microsoft.DataTransfer.Common."
        "Shared.HybridDeliveryException,Message=Cannot connect to SQL Database: 'sql-prod-01.database.windows.net', "
        "Database: 'sales', User: 'etl'. Check the linked service configuration is correct",
        "Operation on target Copy customers failed: ErrorCode=SqlFailedToConnect,'Type=Microsoft.DataTransfer.Common."
        "Shared.HybridDeliveryException,Message=Cannot connect to SQL Database: 'sql-prod-02.database.windows.net', "
        "Database: 'crm', User: 'loader'. Check the linked service configuration is correct",
    ),
    (
        "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be found. "
        "SQLSTATE: 42P01",
        "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`customers` cannot be found. "
        "SQLSTATE: 42P01",
    ),
    (
        "Job aborted due to stage failure: Task 69 in stage 65.0 failed 4 times, most recent failure: "
        "Lost task 69.3 in stage 65.0 (TID 27082) (10.202.16.139 executor 0): java.io.IOException: "
        "No space left on device",
        "Job aborted due to stage failure: Task 3 in stage 812.0 failed 4 times, most recent failure: "
        "Lost task 3.3 in stage 812.0 (TID 90211) (10.1.4.7 executor 12): java.io.IOException: "
        "No space left on device",
    ),
    (
        "Run 912345678901234 of job 684127337461209 failed at 2025-03-14T02:09:51.7731094Z after 3 attempts "
        "(cluster 0314-020001-k3x9abcd): RESOURCE_EXHAUSTED",
        "Run 912345678909999 of job 684127337461209 failed at 2025-03-15T02:10:07Z after 4 attempts "
        "(cluster 0315-020001-zz81abcd): RESOURCE_EXHAUSTED",
    ),
    (
        "ErrorCode=UserErrorFileNotFound, Path abfss://landing@lake.dfs.core.windows.net/sales/2025/03/14/orders.csv "
        "does not exist. Activity ID: 7d1c2a9e-3b8f-4c55-9a61-0e2f4b7c8d11",
        "ErrorCode=UserErrorFileNotFound, Path abfss://landing@lake.dfs.core.windows.net/sales/2025/03/15/orders.csv "
        "does not exist. Activity ID: 5f0e9b3c-8a21-4f7d-b1e6-93c4d2a0e7f5",
    ),
    (
        "FileNotFoundError: [Errno 2] No such file or directory: '/dbfs/mnt/raw/2025-03-14/part-0001.parquet'",
        "FileNotFoundError: [Errno 2] No such file or directory: '/dbfs/mnt/raw/2025-03-15/part-0042.parquet'",
    ),
]

DIFFERENT_CAUSE = [
    (
        "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be found.",
        "AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column `order_id` cannot be resolved.",
    ),
    ("java.lang.OutOfMemoryError: Java heap space", "java.net.SocketTimeoutException: Read timed out"),
    ("ErrorCode=2200 Copy failed: timeout", "ErrorCode=2108 Copy failed: timeout"),
    ("HTTP 429 Too Many Requests", "HTTP 403 Forbidden"),
    ("KeyError: 'customer_id'", "TypeError: unsupported operand type(s) for +: 'int' and 'str'"),
]


@pytest.mark.parametrize(("first", "second"), SAME_CAUSE)
def test_signature_same_cause_same_signature(first, second):
    assert signature_of(first).hash == signature_of(second).hash


@pytest.mark.parametrize(("first", "second"), DIFFERENT_CAUSE)
def test_signature_different_cause_different_signature(first, second):
    assert signature_of(first).hash != signature_of(second).hash


def test_signature_keeps_codes_and_classes_drops_what_varies():
    text = signature_of(
        "Operation on target Run notebook failed: java.sql.SQLException: [DELTA_CONCURRENT_APPEND] "
        "ErrorCode=3204 at 2025-03-14T02:09:51Z in run 7d1c2a9e-3b8f-4c55-9a61-0e2f4b7c8d11 on 10.1.2.3 "
        "reading '/mnt/raw/orders/part-1.parquet' (42 files)"
    ).text

    for kept in ("java.sql.SQLException", "[DELTA_CONCURRENT_APPEND]", "ErrorCode=3204"):
        assert kept in text
    for dropped in ("2025-03-14", "7d1c2a9e", "10.1.2.3", "part-1.parquet", "42", "Run notebook"):
        assert dropped not in text


def test_signature_error_code_field_separates_and_is_shown():
    plain, coded = signature_of("Job execution failed."), signature_of("Job execution failed.", error_code="3204")

    assert plain.hash != coded.hash
    assert coded.text.startswith("[3204] ")
    assert len(coded.hash) == 64


def test_signature_long_text_bounded():
    assert len(signature_of("x " * 10_000).text) <= 1000
