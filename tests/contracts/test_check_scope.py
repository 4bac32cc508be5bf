"""When and where a contract is checked: the partition filter (parsed, never pasted), the schedule, checks that
cannot run, and a warehouse that fails (an error check run, never an exception to the caller)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from contracts.checks.partition import partition_filter, partition_filter_problem
from contracts.models import CheckRun, DataContract, Warehouse
from contracts.services.checks import CheckNotPossible, contract_check
from contracts.services.queueing import contracts_due_queue
from monitors.models import PipelineRun
from tests.contracts.check_world import TYPES, contract_yaml, databricks_table, good_rows, producing_run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text",
    [
        "load_date = :run_date; DROP TABLE orders",
        "order_id IN (SELECT order_id FROM secrets)",
        "1 = 1 UNION SELECT password FROM users",
        "load_date = :tomorrow",
        "load_date =",
    ],
)
def test_partition_filter_problem_refuses_anything_but_one_condition(text):
    assert partition_filter_problem(text, dialect="postgres")


def test_partition_filter_placeholders_become_literals_of_the_run():
    run = PipelineRun(external_run_id="r'1", started_at=datetime(2026, 3, 14, 2, 30, tzinfo=UTC))

    condition = partition_filter("load_date = :run_date AND batch = :run_id", run=run, dialect="postgres")

    assert condition is not None
    assert condition.sql(dialect="postgres") == "load_date = CAST('2026-03-14' AS DATE) AND batch = 'r''1'"


def test_partition_filter_naming_the_run_without_one_reads_whole_table():
    assert partition_filter("load_date = :run_date", run=None, dialect="postgres") is None
    assert partition_filter("load_date > '2026-01-01'", run=None, dialect="postgres") is not None


def _run(started_at: datetime) -> PipelineRun:
    return producing_run(connection_name="adf-scope", pipeline="pl", run_id="run-7", started_at=started_at)


def test_contract_check_scoped_to_run_partition_ignores_other_days():
    now = datetime.now(UTC)
    with databricks_table() as world:
        today = good_rows(now=now)
        yesterday = good_rows(now=now - timedelta(days=1))
        for row in yesterday:
            row[0] += 1000
            row[2] = "lost"  # broken rows, but not where this run wrote
            row[5] = f"old-{row[5]}"
        world.load(today + yesterday)
        text = contract_yaml(world.table, server_type="databricks", types=TYPES["databricks"])
        contract = world.contract(text, partition_filter="CAST(placed_at AS DATE) = :run_date")
        run = _run(now)

        scoped = contract_check(contract_id=contract.pk, trigger=CheckRun.Trigger.RUN, run_id=run.pk)
        DataContract.objects.filter(pk=contract.pk).update(partition_filter="")
        whole = contract_check(contract_id=contract.pk)

    assert scoped.status == CheckRun.Status.PASSED
    assert CheckRun.objects.get(pk=scoped.check_run_id).rows_checked == 20
    assert whole.status == CheckRun.Status.FAILED


def test_contract_check_without_warehouse_not_possible():
    contract = DataContract.objects.create(name="nowhere", owner="x", yaml_text="")
    with pytest.raises(CheckNotPossible, match="no published version"):
        contract_check(contract_id=contract.pk)


def test_contract_check_unreachable_warehouse_stores_error_run():
    warehouse = Warehouse(
        name="pg-down", engine="postgres", host="127.0.0.1", port=9, database="dw", user="aims", sslmode="disable"
    )
    warehouse.set_secret("s3cret-warehouse-password")
    warehouse.save()
    with databricks_table() as world:
        text = contract_yaml("public.orders", server_type="postgres", types=TYPES["postgres"])
        contract = world.contract(text, name="down")
    DataContract.objects.filter(pk=contract.pk).update(warehouse=warehouse)

    summary = contract_check(contract_id=contract.pk)

    check = CheckRun.objects.get(pk=summary.check_run_id)
    assert check.status == CheckRun.Status.ERROR
    assert check.error_message and "s3cret" not in check.error_message
    assert not check.violations.exists()


def test_contracts_due_queue_queues_only_due_contracts(django_capture_on_commit_callbacks):
    with databricks_table() as world:
        world.load(good_rows())
        text = contract_yaml(world.table, server_type="databricks", types=TYPES["databricks"])
        due = world.contract(text, name="due", check_every_minutes=5)
        recent = world.contract(text, name="recent", check_every_minutes=60)
        world.contract(text, name="never", check_every_minutes=0)
        CheckRun.objects.create(
            contract=recent, version=recent.active_version, started_at=timezone.now() - timedelta(minutes=10)
        )

        with django_capture_on_commit_callbacks(execute=True):
            queued = contracts_due_queue()

        assert queued == 1
        assert CheckRun.objects.filter(contract=due, trigger=CheckRun.Trigger.SCHEDULE).count() == 1
        assert CheckRun.objects.filter(contract=recent).count() == 1


def test_contract_check_command_prints_outcomes_and_exits_1_on_failure(capsys):
    from django.core.management import call_command

    with databricks_table() as world:
        rows = good_rows()
        rows[1][2] = "lost"
        world.load(rows)
        world.contract(contract_yaml(world.table, server_type="databricks", types=TYPES["databricks"]))

        with pytest.raises(SystemExit) as exited:
            call_command("contract_check", "orders-flow")

    out = capsys.readouterr().out
    assert exited.value.code == 1
    assert "failed   orders.status.status_valid" in out
    assert out.strip().splitlines()[-1].startswith("failed: 1 violation(s), 20 rows")


def test_producer_checks_queue_costs_no_query_for_a_connection_without_producers(django_assert_num_queries):
    from contracts.models import ContractProducer
    from contracts.services.queueing import producer_checks_queue

    run = _run(datetime.now(UTC))
    producer_checks_queue(connection_id=run.connection_id, external_run_ids=["run-7"])  # reads who produces

    with django_assert_num_queries(0):
        assert producer_checks_queue(connection_id=run.connection_id, external_run_ids=["run-7"]) == 0

    contract = DataContract.objects.create(name="fed", owner="x", yaml_text="")
    ContractProducer.objects.create(contract=contract, connection=run.connection, pipeline_pattern="pl")
    with django_assert_num_queries(2):  # a new producer counts at once: who produces, then the producers' contracts
        producer_checks_queue(connection_id=run.connection_id, external_run_ids=["run-7"])
