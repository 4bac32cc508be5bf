"""Contract checks on real warehouses: the PostgreSQL test server and the simulator's Databricks SQL warehouse
through the SDK. Each clause kind passes on good data and fails on bad data with the observed value; the table is
read in one scan whatever the number of clauses; a violation opens one incident linked to the producing run; a
clean check resolves it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection as django_connection

from contracts.models import CheckRun, ContractProducer, Violation
from contracts.services.checks import contract_check
from incidents.models import Incident, Notification, NotificationChannel, NotificationRoute
from monitors import signals as monitors_signals
from monitors.models import Connection, PipelineRun
from tests.contracts.check_world import (
    COLUMNS,
    TYPES,
    contract_yaml,
    databricks_table,
    good_rows,
    postgres_table,
    producing_run,
)

pytestmark = pytest.mark.django_db
ENGINES = [
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(django_connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL)"),
    ),
    "databricks",
]
SERVER_TYPE = {"postgres": "postgres", "databricks": "databricks"}


@pytest.fixture(params=ENGINES)
def world(request):
    make = postgres_table if request.param == "postgres" else databricks_table
    with make() as table:
        yield table


def _contract(world, **fields):
    text = contract_yaml(world.table, server_type=SERVER_TYPE[world.engine], types=TYPES[world.engine])
    return world.contract(text, **fields)


def _violations(check_id: int) -> dict[str, Violation]:
    return {v.rule: v for v in Violation.objects.filter(check_run_id=check_id)}


def test_contract_check_good_data_passes_in_one_scan(world):
    world.load(good_rows())
    contract = _contract(world)

    summary = contract_check(contract_id=contract.pk)

    check = CheckRun.objects.get(pk=summary.check_run_id)
    assert check.status == CheckRun.Status.PASSED, check.results
    assert check.rows_checked == 20
    assert not check.violations.exists()
    assert {r["status"] for r in check.results} == {"passed"}
    assert len(check.results) >= 12
    # information schema, the one aggregate scan, the composite-key query, the SQL rule
    assert check.statements == 4
    assert [c["name"] for c in check.observed_schema["orders"]] == list(COLUMNS)


TINY = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-tiny
version: 1.0.0
status: active
schema:
  - name: orders
    physicalName: {table}
    properties:
      - name: order_id
        required: true
"""


def test_contract_check_statements_independent_of_clause_count(world):
    world.load(good_rows())
    full = contract_yaml(world.table, server_type=SERVER_TYPE[world.engine], types=TYPES[world.engine])
    # every clause but the composite key and the SQL rule (each of which is one statement of its own)
    scan_only = full.replace(
        "      - id: order_line_unique\n        metric: duplicateValues\n        arguments:\n"
        "          properties: [order_id, line_no]\n        mustBe: 0\n",
        "",
    ).replace(
        "      - id: no_negative_amount\n        type: sql\n"
        "        query: SELECT COUNT(*) FROM {object} WHERE amount < 0\n        mustBe: 0\n",
        "",
    )
    tiny = world.contract(TINY.format(table=world.table), name="orders-tiny")
    many = world.contract(scan_only, name="orders-many")

    tiny_check = CheckRun.objects.get(pk=contract_check(contract_id=tiny.pk).check_run_id)
    many_check = CheckRun.objects.get(pk=contract_check(contract_id=many.pk).check_run_id)

    assert len(tiny_check.results) == 1 and len(many_check.results) >= 10
    assert tiny_check.status == many_check.status == CheckRun.Status.PASSED
    assert tiny_check.statements == many_check.statements == 2  # the information schema and one scan


BAD = {
    "required": (lambda rows: rows[0].__setitem__(0, None), "orders.order_id.required", 1),
    "invalid values": (
        lambda rows: [rows[i].__setitem__(2, "lost") for i in (1, 2)],
        "orders.status.status_valid",
        2,
    ),
    "missing values": (
        lambda rows: [rows[i].__setitem__(2, v) for i, v in ((1, ""), (2, "N/A"))],
        "orders.status.status_missing",
        2,
    ),
    "pattern": (lambda rows: rows[3].__setitem__(3, "X12"), "orders.code.pattern", 1),
    "length": (lambda rows: rows[3].__setitem__(3, "C00001"), "orders.code.length", 1),
    "range": (lambda rows: rows[4].__setitem__(4, Decimal("20000.00")), "orders.amount.range", 1),
    "null percent": (
        lambda rows: [rows[i].__setitem__(4, None) for i in (5, 6, 7)],
        "orders.amount.amount_nulls",
        15.0,
    ),
    "unique": (lambda rows: rows[8].__setitem__(5, rows[9][5]), "orders.email.unique", 1),
    "composite key": (lambda rows: rows[10].__setitem__(0, rows[11][0]), "orders.order_line_unique", 1),
    "sql rule": (lambda rows: rows[12].__setitem__(4, Decimal("-1.00")), "orders.no_negative_amount", 1),
    "row count": (lambda rows: rows.__delitem__(slice(5, None)), "orders.orders_rows", 5),
}


@pytest.mark.parametrize("case", list(BAD))
def test_contract_check_bad_data_fails_with_observed_value(world, case):
    mutate, rule, observed = BAD[case]
    rows = good_rows()
    mutate(rows)
    world.load(rows)
    contract = _contract(world)

    check = CheckRun.objects.get(pk=contract_check(contract_id=contract.pk).check_run_id)

    violations = _violations(check.pk)
    assert check.status == CheckRun.Status.FAILED
    assert rule in violations, sorted(violations)
    assert violations[rule].observed == observed
    assert violations[rule].status == Violation.Status.FAILED
    assert violations[rule].message


def test_contract_check_samples_masked_for_personal_column(world):
    rows = good_rows()
    rows[8][5] = rows[9][5]
    rows[1][2] = "lost"
    world.load(rows)
    contract = _contract(world)

    check = CheckRun.objects.get(pk=contract_check(contract_id=contract.pk).check_run_id)

    violations = _violations(check.pk)
    email = violations["orders.email.unique"]
    assert email.sample and all("masked" in s["value"] for s in email.sample)
    assert "buyer" not in str(check.results) + str(email.sample)
    assert violations["orders.status.status_valid"].sample == [{"value": "lost", "rows": 1}]


def test_contract_check_stale_table_fails_freshness(world):
    world.load(good_rows(now=datetime.now(UTC) - timedelta(hours=5)))
    contract = _contract(world)

    check = CheckRun.objects.get(pk=contract_check(contract_id=contract.pk).check_run_id)

    freshness = _violations(check.pk)["orders.placed_at.freshness"]
    assert 5 * 3600 <= freshness.observed < 6 * 3600


def test_contract_check_dropped_column_is_schema_violation(world):
    columns = tuple(c for c in COLUMNS if c != "code")
    types = tuple(t for c, t in zip(COLUMNS, TYPES[world.engine], strict=True) if c != "code")
    world.load([[v for i, v in enumerate(row) if i != 3] for row in good_rows()], columns=columns, types=types)
    contract = _contract(world)

    check = CheckRun.objects.get(pk=contract_check(contract_id=contract.pk).check_run_id)

    removed = _violations(check.pk)["orders.schema.code.removed"]
    assert removed.kind == "schema_removed" and removed.observed is None
    assert {r["status"] for r in check.results if r["key"].startswith("orders.code.")} == {"error"}


def test_contract_check_retyped_column_is_schema_violation(world):
    types = list(TYPES[world.engine])
    types[4] = types[4].replace("(12,2)", "(14,4)")
    world.load(good_rows(), types=tuple(types))
    contract = _contract(world)

    check = CheckRun.objects.get(pk=contract_check(contract_id=contract.pk).check_run_id)

    retyped = _violations(check.pk)["orders.schema.amount.retyped"]
    assert "(14,4)" in retyped.observed


def _producer(world) -> tuple[Connection, PipelineRun]:
    run = producing_run()
    return run.connection, run


def test_producing_run_success_checks_opens_one_incident_and_clean_check_resolves(
    world, django_capture_on_commit_callbacks
):
    rows = good_rows()
    rows[1][2] = "lost"
    world.load(rows)
    contract = _contract(world)
    connection, run = _producer(world)
    ContractProducer.objects.create(contract=contract, connection=connection, pipeline_pattern="pl_load_*")

    with django_capture_on_commit_callbacks(execute=True):
        monitors_signals.runs_succeeded.send(
            sender="monitors", connection_id=connection.pk, external_run_ids=["run-42"], pipeline_ids=[run.pipeline_id]
        )

    check = CheckRun.objects.get(contract=contract)
    assert check.trigger == CheckRun.Trigger.RUN and check.triggered_by_run == run
    incident = Incident.objects.get()
    assert incident.status == Incident.Status.TRIGGERED
    occurrence = incident.latest_occurrence
    assert occurrence.run == run and occurrence.source == "contract_check"
    assert occurrence.evidence["producing_run"] == "run-42"
    assert occurrence.evidence["version"] == contract.active_version.number
    assert [r["rule"] for r in occurrence.evidence["rules"]] == ["orders.status.status_valid"]

    contract_check(contract_id=contract.pk)  # still broken: the same incident counts it
    incident.refresh_from_db()
    assert Incident.objects.count() == 1 and incident.occurrence_count == 2

    world.load(good_rows())
    clean = contract_check(contract_id=contract.pk)
    incident.refresh_from_db()
    assert clean.status == CheckRun.Status.PASSED
    assert incident.status == Incident.Status.RESOLVED


def _route(name: str, **fields) -> NotificationRoute:
    channel = NotificationChannel(name=f"hook-{name}", kind="webhook")
    channel.set_url("https://hooks.example.com/aims")
    channel.save()
    route = NotificationRoute.objects.create(name=name, **fields)
    route.channels.add(channel)
    return route


def test_contract_violation_routed_by_source_contract_table_and_severity(world):
    rows = good_rows()
    rows[1][2] = "lost"
    world.load(rows)
    contract = _contract(world)
    wanted = _route(
        "orders-owners", sources=["contract_check"], subject_pattern="contract:orders-flow/*", severities=["high"]
    )
    _route("other-contract", subject_pattern="contract:customers/*")
    _route("only-critical", sources=["contract_check"], severities=["critical"])
    _route("only-runs", sources=["pipeline_run"])

    contract_check(contract_id=contract.pk)

    incident = Incident.objects.get()
    assert incident.severity == "high"
    notified = set(Notification.objects.filter(incident=incident).values_list("channel__name", flat=True))
    assert notified == {f"hook-{wanted.name}"}


def test_contract_check_violation_names_its_rule_line(world):
    rows = good_rows()
    rows[1][2] = "lost"
    world.load(rows)
    contract = _contract(world)

    check = CheckRun.objects.get(pk=contract_check(contract_id=contract.pk).check_run_id)

    violation = _violations(check.pk)["orders.status.status_valid"]
    line = contract.active_version.yaml_text.splitlines()[violation.line - 1]
    assert line.strip() == "- id: status_valid"
