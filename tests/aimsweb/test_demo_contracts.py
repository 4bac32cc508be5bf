"""The demo's contracts: `demo_setup` creates the demo lakehouse and a contract per table the simulator's pipelines
load, once; checked against the simulator, the tables pass as seeded, and a null surge the simulator injects into an
orders load fails the check scoped to that run's day, until the repairing load makes it pass again."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from contracts.models import CheckRun, ContractProducer, DataContract, Warehouse
from contracts.services.checks import contract_check
from monitors.models import Connection, Pipeline, PipelineRun
from simulator.testing import run_simulator

pytestmark = pytest.mark.django_db
STEP_SECONDS = 120


@pytest.fixture
def sim(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the demo webhook secret file lands here
    # Loads are stamped with the frozen sim clock: start it now, so the contracts' freshness SLAs hold.
    start = datetime.now(UTC).replace(microsecond=0).isoformat()
    with run_simulator("default", clock_start=start, speed=0, sql_delay_seconds=0) as handle:
        settings.AIMS_SIMULATOR_URL = handle.url
        settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [handle.url]  # as the default is: the simulator's own origin
        yield handle


def _setup() -> str:
    out = StringIO()
    call_command("demo_setup", stdout=out)
    return out.getvalue()


def _producing_run(load: dict) -> PipelineRun:
    """The AIMS record of a loader run, as the ADF monitor would store it."""
    connection = Connection.objects.get(name="adf-sim")
    pipeline, _ = Pipeline.objects.get_or_create(connection=connection, external_id=load["name"], name=load["name"])
    started = datetime.fromisoformat(load["at"][:19]).replace(tzinfo=UTC) - timedelta(minutes=2)
    return PipelineRun.objects.create(
        connection=connection,
        pipeline=pipeline,
        external_run_id=load["run_id"],
        status=PipelineRun.Status.SUCCEEDED,
        started_at=started,
        ended_at=started + timedelta(minutes=2),
    )


def _check(name: str, run: PipelineRun | None = None) -> CheckRun:
    contract = DataContract.objects.get(name=name)
    summary = contract_check(contract_id=contract.pk, trigger=CheckRun.Trigger.RUN, run_id=run.pk if run else None)
    return CheckRun.objects.get(pk=summary.check_run_id)


def test_demo_setup_creates_warehouse_and_contracts_with_producers_once(sim):
    first = _setup()
    second = _setup()

    warehouse = Warehouse.objects.get(name="demo-lakehouse")
    assert warehouse.engine == Warehouse.Engine.DATABRICKS_SQL
    assert warehouse.connection is not None and warehouse.connection.name == "sim-databricks"
    contracts = {c.name: c for c in DataContract.objects.select_related("active_version")}
    assert set(contracts) == {"sales-orders", "sales-customers", "finance-invoices"}
    assert all(c.active_version is not None and c.warehouse == warehouse for c in contracts.values())
    producers = {(p.contract.name, p.connection.name, p.pipeline_pattern) for p in ContractProducer.objects.all()}
    assert producers == {
        ("sales-orders", "adf-sim", "pl_daily_orders"),
        ("sales-customers", "sim-databricks", "customer_360"),
        ("finance-invoices", "adf-sim", "pl_finance_export"),
    }
    assert contracts["sales-orders"].partition_filter and contracts["finance-invoices"].check_every_minutes == 5
    assert "'sales-orders'" in first and "sales-orders" not in second
    assert DataContract.objects.count() == 3 and ContractProducer.objects.count() == 3


def test_demo_contracts_pass_on_seeded_tables_and_null_surge_fails_until_repaired(sim):
    _setup()
    for name in ("sales-customers", "finance-invoices"):
        clean = _check(name)
        assert clean.status == CheckRun.Status.PASSED, [r for r in clean.results if r["status"] != "passed"]
    world = sim.world

    while not (world.loads.active and world.loads.active.record["bad_loads"]):
        sim.advance(STEP_SECONDS)
    assert world.loads.active.problem.kind == "null_surge"
    bad_load = next(load for load in reversed(world.loads.snapshot()["loads"]) if load["problem"] == "null_surge")

    broken = _check("sales-orders", _producing_run(bad_load))

    assert broken.status == CheckRun.Status.FAILED
    violation = broken.violations.get(rule="orders.customer_id.customer_id_nulls")
    assert violation.observed is not None and violation.observed >= 0.5
    episode = world.loads.snapshot()["problems"][0]
    while not episode.get("repaired_by_run_id"):
        sim.advance(STEP_SECONDS)
        episode = world.loads.snapshot()["problems"][0]
    repair = next(load for load in world.loads.snapshot()["loads"] if load["run_id"] == episode["repaired_by_run_id"])

    fixed = _check("sales-orders", _producing_run(repair))

    assert fixed.status == CheckRun.Status.PASSED, [r for r in fixed.results if r["status"] != "passed"]
    assert not fixed.violations.exists()
