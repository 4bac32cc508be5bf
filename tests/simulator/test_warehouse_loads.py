"""The demo tables' loaders: a successful run of a loader appends its rows (dated by the run, stamped when written),
a failed one nothing; problems are injected on a seeded schedule, show in their table while they last and are gone
after the repairing load. The clock is frozen and advanced by hand, so every run and row is reproducible."""

from __future__ import annotations

from datetime import UTC, datetime

import requests

from simulator.testing import run_simulator
from simulator.world import World
from tests.simulator.conftest import CLOCK_START

ORDERS, CUSTOMERS, INVOICES = "main.sales.orders", "main.sales.customers", "main.finance.invoices"
SEEDED = {ORDERS: 1000, CUSTOMERS: 200, INVOICES: 600}
STEP_SECONDS = 120


def _world(**overrides) -> World:
    return World("default", clock_start=CLOCK_START, speed=0, **overrides)


def _query(world: World, sql: str) -> list[list[str | None]]:
    return world.sql.engine(next(iter(world.workspaces.values()))).execute(sql).rows


def _count(world: World, table: str) -> int:
    return int(_query(world, f"SELECT count(*) FROM {table}")[0][0] or 0)


def test_loader_success_appends_rows_dated_by_the_run_and_failures_load_nothing():
    world = _world(warehouse_problems={"problems": []})

    world.advance(3 * 3600)

    loads = world.loads.snapshot()["loads"]
    truth = {run["run_id"]: run for run in world.truth("adf")["runs"]}
    orders = [load for load in loads if load["table"] == ORDERS]
    assert len(orders) >= 20 and all(truth[load["run_id"]]["status"] == "Succeeded" for load in orders)
    failed = [r for r in truth.values() if r["pipeline"] == "pl_daily_orders" and r["status"] == "Failed"]
    assert failed and not {r["run_id"] for r in failed} & {load["run_id"] for load in loads}
    for table in (ORDERS, CUSTOMERS, INVOICES):
        added = sum(load["rows"] for load in loads if load["table"] == table)
        assert added > 0 and _count(world, table) == SEEDED[table] + added
    last = orders[-1]
    run = truth[last["run_id"]]
    rows = _query(
        world,
        f"SELECT DISTINCT order_date, loaded_at FROM {ORDERS} WHERE loaded_at = (SELECT max(loaded_at) FROM {ORDERS})",
    )
    assert rows == [[run["run_start"][:10], _ms(run["run_end"])]]


def _ms(iso7: str) -> str:
    """A frozen clock stamps loaded_at with the run's end (to the second), written as the warehouse answers."""
    moment = datetime.fromisoformat(iso7[:19]).replace(tzinfo=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_problem_schedule_same_seed_and_start_give_same_problems():
    schedules = []
    for _ in range(2):
        world = _world()
        world.advance(6 * 3600)
        schedules.append(world.loads.snapshot()["problems"])
    assert schedules[0] == schedules[1]
    assert [p["kind"] for p in schedules[0][:5]] == [
        "null_surge",
        "duplicate_keys",
        "out_of_range",
        "dropped_column",
        "stale",
    ]


def _symptom(world: World, kind: str) -> bool:
    """Whether the table shows the problem now."""
    if kind == "null_surge":
        return _count_where(world, ORDERS, "customer_id IS NULL") > 0
    if kind == "duplicate_keys":
        return int(_query(world, f"SELECT count(*) - count(DISTINCT order_id) FROM {ORDERS}")[0][0] or 0) > 0
    if kind == "out_of_range":
        return _count_where(world, INVOICES, "amount > 2500") > 0
    if kind == "dropped_column":
        columns = _query(
            world,
            "SELECT column_name FROM main.information_schema.columns "
            "WHERE table_schema = 'sales' AND table_name = 'customers'",
        )
        return ["segment"] not in columns
    return False


def _count_where(world: World, table: str, condition: str) -> int:
    return int(_query(world, f"SELECT count(*) FROM {table} WHERE {condition}")[0][0] or 0)


def test_each_problem_shows_while_it_lasts_and_the_repairing_load_removes_it():
    world = _world()
    seen: dict[str, list[bool]] = {}
    stale_counts: list[int] = []
    for _ in range(7 * 3600 // STEP_SECONDS):
        world.advance(STEP_SECONDS)
        active = world.loads.active
        if active is not None and active.record["bad_loads"] > 0:
            kind = active.problem.kind
            if kind == "stale":
                stale_counts.append(_count(world, INVOICES))
            else:
                seen.setdefault(kind, []).append(_symptom(world, kind))
        elif active is None:
            assert not any(
                _symptom(world, kind) for kind in ("null_surge", "duplicate_keys", "out_of_range", "dropped_column")
            )
    assert set(seen) == {"null_surge", "duplicate_keys", "out_of_range", "dropped_column"}
    assert all(all(flags) for flags in seen.values()), seen
    assert len(stale_counts) > 3 and len(set(stale_counts)) == 1
    episodes = world.loads.snapshot()["problems"]
    assert all(p.get("repaired_by_run_id") for p in episodes[:5])
    stale = next(p for p in episodes if p["kind"] == "stale")
    catch_up = next(load for load in world.loads.snapshot()["loads"] if load["run_id"] == stale["repaired_by_run_id"])
    assert catch_up["repaired"] == "stale" and catch_up["rows"] > 60  # the backlog of the empty runs


def test_repair_after_dropped_column_restores_every_row_and_value():
    world = _world()
    while not any(p["kind"] == "dropped_column" and p.get("repaired_at") for p in world.loads.snapshot()["problems"]):
        world.advance(STEP_SECONDS)
    table = world.loads.tables[CUSTOMERS]
    rows = _query(world, f"SELECT customer_id, segment FROM {CUSTOMERS} ORDER BY customer_id")
    assert [[str(row[0]), row[3]] for row in table.clean] == rows
    assert _count_where(world, CUSTOMERS, "segment IS NULL") == 0


def test_sim_loads_endpoint_reports_loaders_and_loads():
    with run_simulator("default", clock_start=CLOCK_START, speed=0) as sim:
        sim.advance(1800)
        body = requests.get(f"{sim.url}/_sim/loads", timeout=10).json()
    assert {(x["table"], x["name"]) for x in body["loaders"]} == {
        (ORDERS, "pl_daily_orders"),
        (CUSTOMERS, "customer_360"),
        (INVOICES, "pl_finance_export"),
    }
    assert body["loads"] and {"at", "table", "run_id", "rows", "problem", "repaired"} <= set(body["loads"][0])
