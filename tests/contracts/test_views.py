"""The contract pages over HTTP, for each role: the list and a contract's page read by a Viewer, "Check now" for a
Responder only, htmx partials, constant query counts, and the incident page's links to a contract check."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import CheckRun, DataContract
from contracts.services import contract_save
from tests.contracts.factories import ORDERS_YAML, make_contract
from tests.contracts.page_helpers import (
    make_checked_contract,
    make_failed_check,
    make_warehouse,
    report_check_incident,
)
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_run

pytestmark = pytest.mark.django_db


def _queries(client, path: str, **kwargs) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, **kwargs)
    assert response.status_code == 200
    return len(queries)


def test_contract_list_viewer_sees_status_violations_and_incident(viewer_client):
    contract = make_checked_contract()
    incident = report_check_incident(make_failed_check(contract, violations=2))

    html = viewer_client.get("/contracts/").content.decode()

    row = html[html.index(f'id="contract-{contract.pk}"') :]
    assert "sales-data" in row and "wh-orders" in row and "sales.orders" in row
    assert "Failed (violations found)" in row
    assert '<td class="num" data-testid="open-violations">2</td>' in row
    assert f'href="/incidents/{incident.pk}/"' in row
    assert 'ws-connect="/ws/contracts/"' in html


def test_contract_list_never_checked_contract_says_never(viewer_client):
    make_contract(name="customers")

    html = viewer_client.get("/contracts/").content.decode()

    assert "Never checked" in html and 'data-testid="open-violations">0<' in html


def test_contract_list_open_violations_kept_when_last_check_errored(viewer_client):
    contract = make_checked_contract()
    failed = make_failed_check(contract, violations=3)
    CheckRun.objects.create(
        contract=contract,
        version=contract.active_version,
        status=CheckRun.Status.ERROR,
        started_at=failed.started_at + timedelta(minutes=1),
        error_message="warehouse unreachable",
    )

    html = viewer_client.get("/contracts/").content.decode()

    assert "Error (could not check)" in html and 'data-testid="open-violations">3<' in html


def test_contract_list_status_filter_and_search_narrow_rows(viewer_client):
    failing = make_checked_contract("orders")
    make_failed_check(failing)
    quiet = make_contract(name="customers", owner="crm-team")

    failed_only = viewer_client.get("/contracts/?status=failed").content.decode()
    never = viewer_client.get("/contracts/?status=never").content.decode()
    by_owner = viewer_client.get("/contracts/?q=CRM").content.decode()

    assert f'id="contract-{failing.pk}"' in failed_only and f'id="contract-{quiet.pk}"' not in failed_only
    assert f'id="contract-{quiet.pk}"' in never and f'id="contract-{failing.pk}"' not in never
    assert f'id="contract-{quiet.pk}"' in by_owner and f'id="contract-{failing.pk}"' not in by_owner


def test_contract_list_unknown_status_ignored(viewer_client):
    contract = make_contract()

    html = viewer_client.get("/contracts/?status=bogus").content.decode()

    assert f'id="contract-{contract.pk}"' in html


def test_contract_list_htmx_request_gets_results_only(viewer_client):
    contract = make_contract()

    html = viewer_client.get("/contracts/?q=ord", headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<div id="contract-results"')
    assert 'ws-connect="/ws/contracts/?q=ord"' in html
    assert f'id="contract-{contract.pk}"' in html and "<html" not in html and 'id="contract-filters"' not in html


def test_contract_list_query_count_constant(viewer_client):
    first = make_checked_contract("orders")
    report_check_incident(make_failed_check(first))
    with_one = _queries(viewer_client, "/contracts/")
    for n in range(4):
        contract = make_checked_contract(f"orders{n}")
        check = make_failed_check(contract, violations=3)
        report_check_incident(check)
        make_failed_check(contract, violations=2)

    assert _queries(viewer_client, "/contracts/") == with_one


def test_contract_list_no_role_forbidden(no_role_user, client):
    client.force_login(no_role_user)

    assert client.get("/contracts/").status_code == 403


def test_nav_has_contracts_for_viewer(viewer_client):
    html = viewer_client.get("/incidents/").content.decode()

    assert '<a href="/contracts/" >Contracts</a>' in html


def test_contract_detail_viewer_sees_violations_grouped_with_links(viewer_client):
    contract = make_checked_contract()
    run = make_run(status="succeeded", error_message="", failed_step="", error_code="")
    check = make_failed_check(contract, run=run, violations=2)
    incident = report_check_incident(check, run=run)

    html = viewer_client.get(f"/contracts/{contract.pk}/").content.decode()

    violations = html[html.index('id="contract-violations"') : html.index('id="contract-history"')]
    assert 'aria-label="Violations of orders"' in violations
    assert "orders.amount.range0" in violations and "orders.amount.range1" in violations
    assert "3 rows have amount below 0" in violations
    assert "≤ 0 rows" in violations  # expected, in words
    assert "<code>-12.50</code>, <code>*** ×2</code>" in violations  # samples as stored (already masked)
    assert 'href="#L31"' in violations and 'href="#L32"' in violations
    assert f'href="#check-{check.pk}"' in violations
    assert f'href="/pipelines/{run.pipeline_id}/"' in violations and run.external_run_id in violations
    assert f'href="/incidents/{incident.pk}/"' in violations
    assert f'id="check-{check.pk}"' in html
    assert 'id="L31"' in html  # the YAML's line anchor


def test_contract_detail_header_shows_owner_warehouse_schedule_version(viewer_client):
    contract = make_checked_contract(check_every_minutes=30)

    html = viewer_client.get(f"/contracts/{contract.pk}/").content.decode()

    header = html[html.index('id="contract-header"') : html.index('id="contract-violations"')]
    assert "sales-data" in header and "wh-orders" in header and "Every 30 min" in header
    assert 'href="#version-1">v1</a>' in header and "Never checked" in header


def test_contract_detail_viewer_gets_no_check_now_button(viewer_client):
    contract = make_checked_contract()

    html = viewer_client.get(f"/contracts/{contract.pk}/").content.decode()

    assert "Check now" not in html


def test_contract_check_viewer_forbidden(viewer_client, django_capture_on_commit_callbacks):
    contract = make_checked_contract()

    with django_capture_on_commit_callbacks() as queued:
        response = viewer_client.post(f"/contracts/{contract.pk}/check/")

    assert response.status_code == 403
    assert queued == []


def test_contract_check_responder_queues_and_flashes(responder_client, django_capture_on_commit_callbacks):
    contract = make_checked_contract()
    assert "Check now" in responder_client.get(f"/contracts/{contract.pk}/").content.decode()

    with django_capture_on_commit_callbacks() as queued:
        response = responder_client.post(f"/contracts/{contract.pk}/check/")

    assert response.status_code == 303 and response["Location"] == f"/contracts/{contract.pk}/"
    assert len(queued) == 1
    followed = responder_client.get(response["Location"]).content.decode()
    assert "Check queued" in followed


def test_contract_check_htmx_answers_with_header_notice(responder_client, django_capture_on_commit_callbacks):
    contract = make_checked_contract()

    with django_capture_on_commit_callbacks() as queued:
        response = responder_client.post(f"/contracts/{contract.pk}/check/", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200 and len(queued) == 1
    assert html.lstrip().startswith('<section id="contract-header"') and "Check queued" in html


def test_contract_check_without_warehouse_disabled_with_reason(responder_client, django_capture_on_commit_callbacks):
    contract = make_contract()

    page = responder_client.get(f"/contracts/{contract.pk}/").content.decode()
    with django_capture_on_commit_callbacks() as queued:
        response = responder_client.post(f"/contracts/{contract.pk}/check/", follow=True)

    assert '<button type="button" disabled aria-describedby="check-blocked">Check now</button>' in page
    assert "No warehouse" in page
    assert queued == [] and "Not checked: No warehouse" in response.content.decode()


def test_contract_check_unknown_contract_404(responder_client):
    assert responder_client.post("/contracts/999999/check/").status_code == 404


def test_contract_detail_unknown_contract_404(viewer_client):
    assert viewer_client.get("/contracts/999999/").status_code == 404


def test_contract_detail_query_count_constant(viewer_client):
    contract = make_checked_contract()
    run = make_run(status="succeeded")
    report_check_incident(make_failed_check(contract, run=run), run=run)
    with_one = _queries(viewer_client, f"/contracts/{contract.pk}/")
    for _ in range(5):
        make_failed_check(contract, run=make_run(status="succeeded"), violations=4)
    check = make_failed_check(contract, run=run, violations=6)
    report_check_incident(check, run=run)
    report_check_incident(make_failed_check(contract, table="customers"), table="customers")
    contract.yaml_text = ORDERS_YAML.replace("One row per order", "One row per order, kept")
    contract_save(contract=contract)

    assert _queries(viewer_client, f"/contracts/{contract.pk}/") == with_one


def test_contract_detail_history_paged_htmx_partial(viewer_client):
    contract = make_checked_contract()
    checks = [make_failed_check(contract) for _ in range(22)]

    html = viewer_client.get(f"/contracts/{contract.pk}/?checks=2", headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<section id="contract-history"') and "<html" not in html
    assert f'id="check-{checks[0].pk}"' in html and f'id="check-{checks[-1].pk}"' not in html
    assert "2 of 2" in html


def test_contract_detail_versions_show_changes_levels_and_note(viewer_client, admin_user):
    contract = make_checked_contract()
    contract.yaml_text = ORDERS_YAML.replace("        unique: true\n", "")
    contract_save(contract=contract, user=admin_user, note="order ids repeat after the merge", confirm_breaking=True)

    html = viewer_client.get(f"/contracts/{contract.pk}/").content.decode()

    versions = html[html.index('id="contract-versions"') : html.index('id="contract-yaml"')]
    assert 'id="version-2"' in versions and 'id="version-1"' in versions
    assert "order ids repeat after the merge" in versions and "by ada" in versions
    assert 'class="level level-' in versions and "schema[orders].properties[order_id].unique" in versions
    assert "The first version." in versions


def test_contract_detail_observed_schema_and_changes(viewer_client):
    contract = make_checked_contract()
    check = make_failed_check(contract)
    check.violations.create(
        object="orders",
        rule="orders.schema.note.removed",
        kind="schema_removed",
        column="note",
        message="Column note was removed",
        expected={"name": "note", "type": "text"},
    )

    html = viewer_client.get(f"/contracts/{contract.pk}/").content.decode()

    schema = html[html.index('id="contract-schema"') : html.index('id="contract-versions"')]
    assert "order_id" in schema and "bigint" in schema
    assert "<strong>Removed</strong>" in schema and "Column note was removed" in schema


def test_incident_page_contract_check_evidence_links(viewer_client):
    contract = make_checked_contract()
    run = make_run(status="succeeded")
    check = make_failed_check(contract, run=run)
    incident = report_check_incident(check, run=run)

    html = viewer_client.get(f"/incidents/{incident.pk}/").content.decode()

    evidence = html[html.index('id="incident-contract"') :]
    assert f'href="/contracts/{contract.pk}/"' in evidence
    assert f'href="/contracts/{contract.pk}/#check-{check.pk}"' in evidence
    assert f'href="/pipelines/{run.pipeline_id}/"' in evidence and run.external_run_id in evidence
    assert "orders.amount.range0" in evidence and "e.g. -12.50" in evidence


def test_incident_page_of_failed_run_has_no_contract_block(viewer_client):
    incident = make_incident()

    assert 'id="incident-contract"' not in viewer_client.get(f"/incidents/{incident.pk}/").content.decode()


def test_contract_check_warehouse_disabled_reason(responder_client):
    warehouse = make_warehouse("off")
    warehouse.enabled = False
    warehouse.save()
    contract = make_contract(warehouse=warehouse)

    html = responder_client.get(f"/contracts/{contract.pk}/").content.decode()

    assert "Its warehouse off is disabled." in html


def test_contract_check_disabled_contract_refused_with_reason(responder_client, django_capture_on_commit_callbacks):
    contract = make_contract(warehouse=make_warehouse("dw"))
    DataContract.objects.filter(pk=contract.pk).update(enabled=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = responder_client.post(f"/contracts/{contract.pk}/check/", HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert "The contract is disabled" in response.content.decode()
    assert not CheckRun.objects.filter(contract=contract).exists()
