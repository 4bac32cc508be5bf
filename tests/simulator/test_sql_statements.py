"""Databricks SQL Statement Execution API 2.0 of the simulator, as raw HTTP (exact shapes) and through the SDK."""

from __future__ import annotations

import time

import pytest
import requests
from databricks.sdk.errors import NotFound
from databricks.sdk.service.sql import StatementState

from simulator.testing import run_simulator
from tests.simulator.conftest import CLOCK_START, TOKEN

WAREHOUSE = "5e1a0c0ffee0a1b2"


@pytest.fixture
def sql_sim():
    with run_simulator("quiet", clock_start=CLOCK_START, speed=0, sql_chunk_rows=100, sql_delay_seconds=0.2) as sim:
        yield sim


def _post(sim, path: str = "", token: str = TOKEN, **body) -> requests.Response:
    return requests.post(
        f"{sim.url}/api/2.0/sql/statements{path}", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def _get(sim, path: str, token: str = TOKEN) -> requests.Response:
    return requests.get(
        f"{sim.url}/api/2.0/sql/statements{path}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def test_execute_select_waited_returns_manifest_and_first_chunk_as_strings(sql_sim):
    answer = _post(
        sql_sim,
        warehouse_id=WAREHOUSE,
        wait_timeout="5s",
        statement="SELECT * FROM main.sales.orders ORDER BY order_id",
    )
    body = answer.json()
    assert answer.status_code == 200
    assert body["status"] == {"state": "SUCCEEDED"}
    manifest = body["manifest"]
    assert manifest["format"] == "JSON_ARRAY"
    assert manifest["total_row_count"] == 1000 and manifest["total_chunk_count"] == 10
    assert manifest["truncated"] is False
    assert manifest["chunks"][1] == {"chunk_index": 1, "row_offset": 100, "row_count": 100}
    columns = {c["name"]: c for c in manifest["schema"]["columns"]}
    assert manifest["schema"]["column_count"] == 7
    assert columns["order_id"] | {} == {"name": "order_id", "position": 0, "type_name": "LONG", "type_text": "BIGINT"}
    assert columns["amount"]["type_name"] == "DECIMAL" and columns["amount"]["type_text"] == "DECIMAL(12,2)"
    assert columns["amount"]["type_precision"] == 12 and columns["amount"]["type_scale"] == 2
    assert columns["updated_at"]["type_name"] == "TIMESTAMP"
    result = body["result"]
    assert result["chunk_index"] == 0 and result["row_offset"] == 0 and result["row_count"] == 100
    assert result["next_chunk_index"] == 1
    assert result["next_chunk_internal_link"] == f"/api/2.0/sql/statements/{body['statement_id']}/result/chunks/1"
    assert all(isinstance(value, str) for value in result["data_array"][0])


def test_chunk_last_has_no_next_index(sql_sim):
    body = _post(sql_sim, warehouse_id=WAREHOUSE, wait_timeout="5s", statement="SELECT * FROM main.sales.orders").json()
    last = _get(sql_sim, f"/{body['statement_id']}/result/chunks/9").json()
    assert last["row_offset"] == 900 and last["row_count"] == 100
    assert "next_chunk_index" not in last
    beyond = _get(sql_sim, f"/{body['statement_id']}/result/chunks/10")
    assert beyond.status_code == 400 and beyond.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_execute_zero_wait_answers_pending_then_succeeds_on_get(sql_sim):
    body = _post(sql_sim, warehouse_id=WAREHOUSE, wait_timeout="0s", statement="SELECT 1 AS one").json()
    assert body["status"]["state"] in ("PENDING", "RUNNING")
    assert "manifest" not in body and "result" not in body
    time.sleep(0.3)
    done = _get(sql_sim, f"/{body['statement_id']}").json()
    assert done["status"]["state"] == "SUCCEEDED"
    assert done["result"]["data_array"] == [["1"]]


def test_execute_unknown_column_fails_with_error_class_and_sql_state(sql_sim):
    body = _post(sql_sim, warehouse_id=WAREHOUSE, wait_timeout="5s", statement="SELECT amout FROM main.sales.orders")
    status = body.json()["status"]
    assert body.status_code == 200
    assert status["state"] == "FAILED"
    assert status["error"]["error_code"] == "BAD_REQUEST"
    assert status["error"]["message"].startswith("[UNRESOLVED_COLUMN.WITH_SUGGESTION]")
    assert "`amount`" in status["error"]["message"]
    assert status["sql_state"] == "42703"


def test_execute_unknown_table_fails_table_or_view_not_found(sql_sim):
    status = _post(sql_sim, warehouse_id=WAREHOUSE, wait_timeout="5s", statement="SELECT 1 FROM main.sales.nope")
    error = status.json()["status"]["error"]
    assert error["message"].startswith("[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`sales`.`nope`")


@pytest.mark.parametrize(
    ("field", "value", "status", "code"),
    [
        ("warehouse_id", "0123456789abcdef", 404, "RESOURCE_DOES_NOT_EXIST"),
        ("disposition", "EXTERNAL_LINKS", 400, "INVALID_PARAMETER_VALUE"),
        ("wait_timeout", "3s", 400, "INVALID_PARAMETER_VALUE"),
        ("on_wait_timeout", "LATER", 400, "INVALID_PARAMETER_VALUE"),
    ],
)
def test_execute_bad_request_field_answers_error_body(sql_sim, field, value, status, code):
    body = {"warehouse_id": WAREHOUSE, "statement": "SELECT 1", field: value}
    answer = _post(sql_sim, **body)
    assert answer.status_code == status
    assert answer.json()["error_code"] == code


def test_execute_wrong_token_is_unauthenticated(sql_sim):
    answer = _post(sql_sim, token="dapi-wrong", warehouse_id=WAREHOUSE, statement="SELECT 1")
    assert answer.status_code == 401


def test_cancel_running_statement_reports_canceled(sql_sim):
    sql_sim.call("POST", "/_sim/sql", {"delay_seconds": 5})
    body = _post(sql_sim, warehouse_id=WAREHOUSE, wait_timeout="0s", statement="SELECT 1").json()
    assert _post(sql_sim, f"/{body['statement_id']}/cancel").status_code == 200
    assert _get(sql_sim, f"/{body['statement_id']}").json()["status"]["state"] == "CANCELED"


def test_execute_wait_cancel_on_timeout_cancels(sql_sim):
    sql_sim.call("POST", "/_sim/sql", {"delay_seconds": 8})
    body = _post(sql_sim, warehouse_id=WAREHOUSE, wait_timeout="5s", on_wait_timeout="CANCEL", statement="SELECT 1")
    assert body.json()["status"]["state"] == "CANCELED"


def test_execute_row_limit_truncates(sql_sim):
    body = _post(
        sql_sim, warehouse_id=WAREHOUSE, wait_timeout="5s", row_limit=3, statement="SELECT * FROM main.sales.orders"
    )
    manifest = body.json()["manifest"]
    assert manifest["total_row_count"] == 3 and manifest["truncated"] is True


def test_information_schema_columns_speaks_databricks_types(sql_sim):
    body = _post(
        sql_sim,
        warehouse_id=WAREHOUSE,
        wait_timeout="5s",
        statement="SELECT column_name, data_type, full_data_type, is_nullable, ordinal_position "
        "FROM main.information_schema.columns WHERE table_schema = 'finance' AND table_name = 'invoices' "
        "ORDER BY ordinal_position",
    ).json()
    rows = body["result"]["data_array"]
    assert rows[0] == ["invoice_id", "STRING", "string", "NO", "1"]
    assert rows[2] == ["amount", "DECIMAL", "decimal(12,2)", "YES", "3"]
    assert rows[4][1:3] == ["TIMESTAMP", "timestamp"]
    assert rows[5][1:3] == ["BOOLEAN", "boolean"]


def test_admin_sql_creates_tables_and_rows_that_statements_see(sql_sim):
    setup = sql_sim.call(
        "POST",
        "/_sim/sql",
        {
            "statements": [
                "CREATE SCHEMA IF NOT EXISTS qa.checks",
                "CREATE TABLE qa.checks.t (id BIGINT NOT NULL, label STRING)",
            ],
            "insert": {"table": "qa.checks.t", "rows": [[1, "a"], [2, None]]},
        },
    )
    assert "qa.checks.t" in setup["tables"] and setup["inserted"] == 2
    body = _post(
        sql_sim, warehouse_id=WAREHOUSE, wait_timeout="5s", statement="SELECT label FROM qa.checks.t ORDER BY id"
    )
    assert body.json()["result"]["data_array"] == [["a"], [None]]


def test_demo_tables_same_seed_and_start_give_same_rows():
    statement = "SELECT * FROM main.finance.invoices ORDER BY invoice_id LIMIT 5"
    answers = []
    for _ in range(2):
        with run_simulator("quiet", clock_start=CLOCK_START, speed=0) as sim:
            answers.append(_post(sim, warehouse_id=WAREHOUSE, wait_timeout="5s", statement=statement).json())
    assert answers[0]["result"]["data_array"] == answers[1]["result"]["data_array"]


def test_sdk_get_statement_unknown_id_raises_not_found(sql_sim):
    w = sql_sim.databricks_client()
    with pytest.raises(NotFound):
        w.statement_execution.get_statement("01ef0000-0000-0000-0000-000000000000")
    done = w.statement_execution.execute_statement(warehouse_id=WAREHOUSE, statement="SELECT 2", wait_timeout="5s")
    assert done.status.state == StatementState.SUCCEEDED
