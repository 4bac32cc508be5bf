"""The contract-check benchmark (bench/contract_check.py) on a tiny table (PostgreSQL only): the table it builds
passes its contract in one scan, the hand-written scan measures the same clauses with the same counts, and a second
run reuses the table, so a change to the checks or the contract format fails the suite rather than `make bench`."""

import psycopg
import pytest
from django.db import connection

from bench import contract_check
from contracts.models import DataContract
from contracts.warehouses.postgres import close_pools

pytestmark = pytest.mark.django_db
ROWS = 3_000


@pytest.fixture
def bench_schema(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark's warehouse table is on PostgreSQL")
    monkeypatch.setattr(contract_check, "SCHEMA", "bench_contract_test")
    monkeypatch.setattr(contract_check, "TABLE", "bench_contract_test.orders")
    yield
    close_pools()
    with psycopg.connect(**contract_check.pg_options(), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS bench_contract_test CASCADE")


def test_contract_check_bench_tiny_table_passes_in_two_statements(bench_schema, capsys):
    measured = contract_check.measure(rows=ROWS, rounds=1)

    # the information schema and the one aggregate scan, for 20 clauses
    assert measured.statements == 2
    assert len(measured.aims) == len(measured.hand) == 1
    assert measured.ratio > 0
    contract = DataContract.objects.get(name=contract_check.CONTRACT_NAME)
    contract_check.explain("AIMS", contract_check.aims_scan_sql(contract.pk))
    assert 'COUNT(DISTINCT "order_id")' in capsys.readouterr().out


def test_contract_check_bench_table_same_rows_reused(bench_schema):
    with psycopg.connect(**contract_check.pg_options(), autocommit=True) as conn:
        assert contract_check.table_ensure(conn, rows=ROWS) is True
        assert contract_check.table_ensure(conn, rows=ROWS) is False
        assert contract_check.table_ensure(conn, rows=ROWS + 1) is True
        assert conn.execute("SELECT count(*) FROM bench_contract_test.orders").fetchone() == (ROWS + 1,)


def test_contract_check_bench_hand_written_differs_stops(bench_schema, monkeypatch):
    monkeypatch.setitem(contract_check.HAND_WRITTEN, "orders.code.length", "count(*) FILTER (WHERE length(code) > 1)")

    with pytest.raises(SystemExit, match=r"orders\.code\.length"):
        contract_check.measure(rows=ROWS, rounds=1)
