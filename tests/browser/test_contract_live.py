"""A contract check seen live: a Viewer has a contract's page and the incident list open; a check on a real
PostgreSQL warehouse (the test database's own server) finds violations, and they appear on the contract page, the
incident on the list, with no reload; the incident's page links back to the contract and its check."""

from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection, connections
from playwright.sync_api import Page, expect

from aimsweb.roles import Role
from contracts.models import Warehouse
from contracts.services.checks import contract_check
from contracts.warehouses.postgres import close_pools
from incidents.models import Incident
from tests.browser.conftest import assert_no_console_errors, shot
from tests.contracts.check_world import pg_options, pg_warehouse
from tests.contracts.factories import ORDERS_YAML, make_contract

SCHEMA = "aims_contract_live"
LIVE_MS = 15_000

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the warehouse is the PostgreSQL test database"),
]


@pytest.fixture
def warehouse_orders():
    """A committed table that breaks the contract: a negative amount and a repeated order id."""
    with psycopg.connect(**pg_options(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"CREATE TABLE {SCHEMA}.orders (order_id bigint NOT NULL, amount numeric, loaded_at timestamp)")
        conn.execute(
            f"INSERT INTO {SCHEMA}.orders VALUES (1, 10.00, now()), (2, -12.50, now()), (2, 7.00, now()), "
            "(3, 4.20, now())"
        )
    yield f"{SCHEMA}.orders"
    close_pools()
    with psycopg.connect(**pg_options(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def _warehouse() -> Warehouse:
    return pg_warehouse("pg-live")


def _open_live(page: Page, path: str) -> Page:
    page.goto(path)
    expect(page.locator("[data-live-indicator]").first).to_have_text("Live")
    page.evaluate("() => { window.aimsNotReloaded = true; }")
    return page


def _not_reloaded(page: Page) -> bool:
    return page.evaluate("() => window.aimsNotReloaded === true")


def _check_in_worker(contract_id: int) -> str:
    """The check service as a task worker runs it; its own database connections are closed after."""
    try:
        return contract_check(contract_id=contract_id).status
    finally:
        connections.close_all()


def test_contract_violation_appears_live_on_contract_page_and_incident_list(make_user, page_for, warehouse_orders):
    contract = make_contract(yaml_text=ORDERS_YAML.replace("sales.orders", warehouse_orders), warehouse=_warehouse())
    viewer = make_user("vera", Role.VIEWER)
    contract_page = _open_live(page_for(viewer), f"/contracts/{contract.pk}/")
    incident_list = _open_live(page_for(viewer), "/incidents/")
    expect(contract_page.get_by_test_id("no-violations")).to_have_text("Not checked yet.")
    expect(incident_list.locator("tr[id^='incident-']")).to_have_count(0)

    # Not in this thread: Playwright's event loop runs here, and the broadcast's async_to_sync refuses beside it.
    with ThreadPoolExecutor(max_workers=1) as worker:
        status = worker.submit(_check_in_worker, contract.pk).result()

    assert status == "failed"
    violations = contract_page.locator("#contract-violations tr.violation")
    expect(violations.first).to_be_visible(timeout=LIVE_MS)
    expect(contract_page.locator("#contract-violations")).to_contain_text("-12.5")
    expect(contract_page.get_by_test_id("check-status")).to_have_text("Failed (violations found)")
    incident = Incident.objects.get(source="contract_check")
    expect(incident_list.locator(f"#incident-{incident.pk}")).to_contain_text("orders", timeout=LIVE_MS)
    expect(contract_page.get_by_test_id("open-incidents")).to_contain_text(f"#{incident.pk}")
    assert _not_reloaded(contract_page) and _not_reloaded(incident_list)
    expect(contract_page.get_by_role("button", name="Check now")).to_have_count(0)
    shot(contract_page, "contract-live-violation-viewer")
    shot(incident_list, "contract-live-incident-list-viewer")
    assert_no_console_errors(contract_page)
    assert_no_console_errors(incident_list)

    incident_list.locator(f"#incident-{incident.pk} a").first.click()
    incident_list.wait_for_url(f"**/incidents/{incident.pk}/")
    evidence = incident_list.locator("#incident-contract")
    expect(evidence.get_by_role("link", name=contract.name)).to_have_attribute("href", f"/contracts/{contract.pk}/")
    evidence.get_by_role("link", name=f"#{incident.latest_occurrence.evidence['check_run']}").click()
    incident_list.wait_for_url(f"**/contracts/{contract.pk}/#check-*")
    expect(incident_list.locator("#contract-history tr[id^='check-']")).to_have_count(1)
