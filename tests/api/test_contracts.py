"""Data contracts and violations through the API: current version, tables, status, and open/resolved violations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aimsweb.roles import Role
from contracts.models import CheckRun, Violation
from tests.contracts.factories import make_check_run_with_violation, make_contract

pytestmark = pytest.mark.django_db


def _check(contract, *, status=CheckRun.Status.FAILED, at=None, rule="", table="orders") -> CheckRun:
    check_run = CheckRun.objects.create(
        contract=contract, version=contract.active_version, status=status, started_at=at or timezone.now()
    )
    if rule:
        Violation.objects.create(check_run=check_run, object=table, rule=rule, message=f"{rule} broken (nightly)")
    return check_run


def test_contract_list_shows_version_tables_status_and_open_violations(key_client):
    client, _ = key_client(Role.VIEWER)
    contract = make_contract()
    make_check_run_with_violation(contract)

    response = client.get("/api/v1/contracts")

    assert response.status_code == 200, response.content
    [row] = response.json()["results"]
    assert row["id"] == contract.pk
    assert row["current_version"]["number"] == contract.active_version.number
    assert row["tables"] == ["sales.orders"]
    assert row["status"] == "failed"
    assert row["open_violations"] == 1


def test_contract_list_filters_never_checked(key_client):
    client, _ = key_client(Role.VIEWER)
    checked = make_contract()
    make_check_run_with_violation(checked)
    fresh = make_contract(name="customers")

    never = client.get("/api/v1/contracts?status=never").json()["results"]
    failed = client.get("/api/v1/contracts?status=failed").json()["results"]

    assert [row["id"] for row in never] == [fresh.pk]
    assert [row["id"] for row in failed] == [checked.pk]


def test_contract_get_and_unknown_is_404(key_client):
    client, _ = key_client(Role.VIEWER)
    contract = make_contract()

    assert client.get(f"/api/v1/contracts/{contract.pk}").json()["status"] == "never"
    assert client.get("/api/v1/contracts/999999").status_code == 404


def test_violations_open_until_a_later_completed_check(key_client):
    client, _ = key_client(Role.VIEWER)
    contract = make_contract()
    now = timezone.now()
    first = _check(contract, at=now - timedelta(hours=2), rule="orders.amount.range")
    _check(contract, status=CheckRun.Status.ERROR, at=now - timedelta(hours=1))  # says nothing about the data
    [violation] = first.violations.all()

    open_before = client.get("/api/v1/violations?state=open").json()["results"]
    later = _check(contract, status=CheckRun.Status.PASSED, at=now)
    resolved_after = client.get("/api/v1/violations?state=resolved").json()["results"]
    open_after = client.get(f"/api/v1/contracts/{contract.pk}/violations?state=open").json()["results"]

    assert [(row["id"], row["state"]) for row in open_before] == [(violation.pk, "open")]
    assert [(row["id"], row["state"]) for row in resolved_after] == [(violation.pk, "resolved")]
    assert open_after == [] and later.pk


def test_violations_filter_by_contract_table_and_time(key_client):
    client, _ = key_client(Role.VIEWER)
    orders = make_contract()
    customers = make_contract(name="customers")
    now = timezone.now()
    _check(orders, at=now - timedelta(days=3), rule="orders.id.unique")
    recent = _check(orders, at=now, rule="orders.amount.range").violations.get()
    _check(customers, at=now, rule="customers.email.format", table="customers")

    since = (now - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    rows = client.get("/api/v1/violations", {"contract": orders.pk, "table": "orders", "checked_after": since})

    assert [row["id"] for row in rows.json()["results"]] == [recent.pk]
    assert rows.json()["results"][0]["contract"] == {"id": orders.pk, "name": "orders"}


def test_violations_of_unknown_contract_is_404_and_bad_state_400(key_client):
    client, _ = key_client(Role.VIEWER)

    assert client.get("/api/v1/contracts/999999/violations").status_code == 404
    response = client.get("/api/v1/violations?state=maybe")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "state"


def test_violation_list_queries_constant_whatever_rows(key_client, django_assert_num_queries):
    client, _ = key_client(Role.VIEWER)
    contract = make_contract()
    _check(contract, rule="orders.a")
    client.get("/api/v1/violations")

    with django_assert_num_queries(4) as one:
        client.get("/api/v1/violations")
    for n in range(10):
        _check(make_contract(name=f"c{n}"), rule=f"orders.r{n}")
    with django_assert_num_queries(len(one.captured_queries)):
        response = client.get("/api/v1/violations")

    assert len(response.json()["results"]) == 11


def test_contract_list_queries_constant_whatever_rows(key_client, django_assert_num_queries):
    client, _ = key_client(Role.VIEWER)
    make_check_run_with_violation(make_contract())
    client.get("/api/v1/contracts")

    with django_assert_num_queries(4) as one:
        client.get("/api/v1/contracts")
    for n in range(5):
        make_check_run_with_violation(make_contract(name=f"c{n}"))
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(client.get("/api/v1/contracts").json()["results"]) == 6


def test_contracts_need_contracts_scope(key_client):
    client, _ = key_client(Role.ADMIN, scopes=["pipelines:read"])

    assert client.get("/api/v1/violations").json()["code"] == "scope_missing"


@pytest.mark.parametrize("moment", ["1800-06-13T07:07:40+18:16", "0001-01-01T00:00:00+10:00"])
def test_violations_extreme_offsets_are_utc_or_400_never_500(key_client, moment):
    client, _ = key_client(Role.VIEWER)
    make_check_run_with_violation(make_contract())

    response = client.get("/api/v1/violations", {"checked_before": moment})

    assert response.status_code in {200, 400}
    assert response.status_code == 200 or response.json()["errors"][0]["field"] == "checked_before"
