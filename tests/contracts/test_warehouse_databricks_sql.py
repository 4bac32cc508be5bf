"""The Databricks SQL client through the real databricks-sdk against the simulator's Statement Execution API."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contracts.models import Warehouse
from contracts.warehouses.base import ObservedColumn, TableNotFound, WarehouseError, warehouse_client
from monitors.models import Connection
from simulator.testing import run_simulator

pytestmark = pytest.mark.django_db
WAREHOUSE_ID = "5e1a0c0ffee0a1b2"


@pytest.fixture
def sim():
    with run_simulator(
        "quiet", clock_start="2025-03-14T00:00:00Z", speed=0, sql_chunk_rows=100, sql_delay_seconds=0.05
    ) as handle:
        yield handle


def _warehouse(sim, **fields) -> Warehouse:
    connection = Connection(
        name="sim-dbx", kind="databricks", is_simulator=True, host=sim.url, auth_method=Connection.AuthMethod.PAT
    )
    connection.set_secret("dapi-sim-ws1")
    connection.save()
    return Warehouse.objects.create(
        **{
            "name": "lakehouse",
            "engine": "databricks_sql",
            "connection": connection,
            "warehouse_id": WAREHOUSE_ID,
            **fields,
        }
    )


def test_query_values_converted_to_python_types(sim):
    sim.call(
        "POST",
        "/_sim/sql",
        {
            "statements": [
                "CREATE SCHEMA qa.types",
                "CREATE TABLE qa.types.t "
                "(i BIGINT, d DECIMAL(12,2), f DOUBLE, s STRING, b BOOLEAN, dt DATE, ts TIMESTAMP)",
            ],
            "insert": {
                "table": "qa.types.t",
                "rows": [[7, "12.50", 1.5, "x", True, "2025-01-02", "2025-03-14T10:00:00Z"], [None] * 7],
            },
        },
    )
    client = warehouse_client(_warehouse(sim))
    result = client.query("SELECT * FROM qa.types.t ORDER BY i NULLS LAST")
    assert client.dialect == "databricks"
    assert result.columns == ("i", "d", "f", "s", "b", "dt", "ts")
    assert result.rows[0] == (
        7,
        Decimal("12.50"),
        1.5,
        "x",
        True,
        date(2025, 1, 2),
        datetime(2025, 3, 14, 10, tzinfo=UTC),
    )
    assert result.rows[1] == (None,) * 7


def test_query_many_chunks_reads_every_row_in_one_statement(sim):
    client = warehouse_client(_warehouse(sim))
    result = client.query("SELECT order_id FROM main.sales.orders ORDER BY order_id")
    assert len(result.rows) == 1000
    assert [row[0] for row in result.rows] == list(range(100_001, 101_001))
    assert client.statements == 1
    assert sim.stats()["calls"]["sql.statements.chunk"] == 9


def test_query_short_timeout_polls_until_done(sim):
    sim.call("POST", "/_sim/sql", {"delay_seconds": 0.5})
    client = warehouse_client(_warehouse(sim))
    result = client.query("SELECT count(*) AS n FROM main.sales.customers", timeout_seconds=4)
    assert result.rows == [(200,)]
    assert sim.stats()["calls"]["sql.statements.get"] >= 1


def test_query_past_timeout_cancels_statement(sim):
    sim.call("POST", "/_sim/sql", {"delay_seconds": 10})
    client = warehouse_client(_warehouse(sim))
    with pytest.raises(WarehouseError, match="after its 1 s timeout") as caught:
        client.query("SELECT 1", timeout_seconds=1)
    assert caught.value.code == "TIMEOUT"
    assert sim.stats()["calls"]["sql.statements.cancel"] == 1


def test_query_sql_error_raises_with_platform_error_class(sim):
    client = warehouse_client(_warehouse(sim))
    with pytest.raises(WarehouseError) as caught:
        client.query("SELECT amout FROM main.sales.orders")
    assert caught.value.code == "UNRESOLVED_COLUMN.WITH_SUGGESTION"
    assert "FAILED" in str(caught.value) and "BAD_REQUEST" in str(caught.value)


def test_query_unknown_warehouse_id_raises_resource_does_not_exist(sim):
    client = warehouse_client(_warehouse(sim, warehouse_id="0123456789abcdef"))
    with pytest.raises(WarehouseError) as caught:
        client.query("SELECT 1")
    assert caught.value.code == "RESOURCE_DOES_NOT_EXIST"


def test_query_wrong_token_raises_without_token(sim):
    warehouse = _warehouse(sim)
    warehouse.connection.set_secret("dapi-wrong-token")
    warehouse.connection.save()
    with pytest.raises(WarehouseError) as caught:
        warehouse_client(warehouse).query("SELECT 1")
    assert "dapi-wrong-token" not in str(caught.value)


def test_columns_reads_information_schema_in_databricks_spelling(sim):
    client = warehouse_client(_warehouse(sim))
    columns = client.columns("main.sales.orders")
    assert columns[0] == ObservedColumn(name="order_id", data_type="bigint", nullable=False, position=1)
    assert [c.data_type for c in columns] == [
        "bigint",
        "bigint",
        "date",
        "string",
        "decimal(12,2)",
        "timestamp",
        "timestamp",
    ]


def test_columns_unknown_table_raises_table_not_found(sim):
    with pytest.raises(TableNotFound):
        warehouse_client(_warehouse(sim)).columns("main.sales.nope")
