"""The PostgreSQL client on a real server: the test database's own server, a schema of its own, the test role."""

import socket

import psycopg
import pytest
from django.db import connection as django_connection

from contracts.models import Warehouse
from contracts.warehouses.base import ObservedColumn, TableNotFound, WarehouseError, warehouse_client
from contracts.warehouses.postgres import close_pools
from tests.contracts.check_world import pg_options, pg_warehouse

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(django_connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
]
SCHEMA = "aims_warehouse_test"


@pytest.fixture
def warehouse_schema():
    """A schema with one table, committed (the client's own connections must see it), dropped afterwards."""
    with psycopg.connect(**pg_options(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(
            f"CREATE TABLE {SCHEMA}.orders (order_id bigint NOT NULL, amount numeric(12,2), code varchar(10), "
            "note text, placed_at timestamp, loaded_at timestamptz, ok boolean)"
        )
        conn.execute(f"INSERT INTO {SCHEMA}.orders VALUES (1, 12.50, 'A', NULL, '2025-03-14 10:00', now(), true)")
    yield SCHEMA
    close_pools()
    with psycopg.connect(**pg_options(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def _warehouse(**fields) -> Warehouse:
    return pg_warehouse("pg-test", **fields)


def test_query_returns_python_values(warehouse_schema):
    client = warehouse_client(_warehouse())
    result = client.query(f"SELECT order_id, amount, code, ok FROM {warehouse_schema}.orders")
    assert client.dialect == "postgres"
    assert result.columns == ("order_id", "amount", "code", "ok")
    assert [tuple(map(str, row)) for row in result.rows] == [("1", "12.50", "A", "True")]
    assert client.statements == 1


def test_query_insert_refused_read_only(warehouse_schema):
    client = warehouse_client(_warehouse())
    with pytest.raises(WarehouseError, match="only read") as caught:
        client.query(f"INSERT INTO {warehouse_schema}.orders (order_id) VALUES (2)")
    assert caught.value.code == "25006"
    with psycopg.connect(**pg_options()) as conn:
        assert conn.execute(f"SELECT count(*) FROM {warehouse_schema}.orders").fetchone() == (1,)


def test_query_past_statement_timeout_cancelled(warehouse_schema):
    client = warehouse_client(_warehouse())
    with pytest.raises(WarehouseError, match="after its 0.2 s timeout") as caught:
        client.query("SELECT pg_sleep(5)", timeout_seconds=0.2)
    assert caught.value.code == "57014"


def test_query_warehouse_timeout_used_without_argument(warehouse_schema):
    client = warehouse_client(_warehouse(statement_timeout_seconds=1))
    with pytest.raises(WarehouseError, match="after its 1 s timeout"):
        client.query("SELECT pg_sleep(3)")


def test_query_timeout_does_not_leak_into_pooled_connection(warehouse_schema):
    client = warehouse_client(_warehouse(max_connections=1))
    client.query("SELECT 1", timeout_seconds=0.5)
    assert client.query("SELECT 1 AS slept FROM pg_sleep(0.7)", timeout_seconds=5).rows == [(1,)]


def test_query_syntax_error_raises_clear_message(warehouse_schema):
    with pytest.raises(WarehouseError, match="syntax error") as caught:
        warehouse_client(_warehouse()).query("SELEC 1")
    assert caught.value.code == "42601"


def test_columns_reads_types_with_length_and_precision(warehouse_schema):
    columns = warehouse_client(_warehouse()).columns(f"{warehouse_schema}.orders")
    assert columns[0] == ObservedColumn(name="order_id", data_type="bigint", nullable=False, position=1)
    assert [c.data_type for c in columns] == [
        "bigint",
        "numeric(12,2)",
        "character varying(10)",
        "text",
        "timestamp without time zone",
        "timestamp with time zone",
        "boolean",
    ]
    assert all(c.nullable for c in columns[1:])


def test_columns_unknown_table_raises_table_not_found(warehouse_schema):
    with pytest.raises(TableNotFound):
        warehouse_client(_warehouse()).columns(f"{warehouse_schema}.nope")


def test_client_same_warehouse_reuses_pool_and_edit_replaces_it(warehouse_schema):
    warehouse = _warehouse()
    first, second = warehouse_client(warehouse), warehouse_client(warehouse)
    assert first._pool is second._pool
    first.query("SELECT 1")
    second.query("SELECT 1")
    assert first._pool.get_stats()["connections_num"] == 1
    warehouse.statement_timeout_seconds = 30
    warehouse.save()
    assert warehouse_client(warehouse)._pool is not first._pool


def test_query_wrong_credentials_raise_without_password(warehouse_schema):
    warehouse = _warehouse(user="no_such_role_aims")
    warehouse.set_secret("hunter2-wrong-password")
    warehouse.save()
    with pytest.raises(WarehouseError) as caught:
        warehouse_client(warehouse).query("SELECT 1")
    assert "Cannot connect" in str(caught.value)
    assert "no_such_role_aims" in str(caught.value)
    assert "hunter2-wrong-password" not in str(caught.value)


def test_query_refused_port_raises_without_password(warehouse_schema):
    warehouse = _warehouse(port=_free_port())
    warehouse.set_secret("hunter2-wrong-password")
    warehouse.save()
    with pytest.raises(WarehouseError, match="Cannot connect") as caught:
        warehouse_client(warehouse).query("SELECT 1")
    assert "hunter2-wrong-password" not in str(caught.value)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_application_name_set(warehouse_schema):
    rows = warehouse_client(_warehouse()).query("SELECT current_setting('application_name')").rows
    assert rows == [("aims-contract-check",)]
