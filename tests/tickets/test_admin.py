"""Ticket routes in the admin: Admins only, credentials write-only, the inbound secret shown once; jobs read-only."""

import pytest

from tests.tickets.helpers import make_route, open_incident
from tickets.models import TicketRoute, TicketSyncJob

pytestmark = pytest.mark.django_db


def test_roles_only_admin_reads_routes_and_jobs(viewer, responder, admin_user):
    assert not viewer.has_perm("tickets.view_ticketroute") and not responder.has_perm("tickets.view_ticketroute")
    assert not responder.has_perm("tickets.view_ticketsyncjob")
    assert admin_user.has_perm("tickets.change_ticketroute") and admin_user.has_perm("tickets.view_ticketsyncjob")
    assert not admin_user.has_perm("tickets.change_ticketsyncjob")


def test_admin_route_page_never_shows_secrets(admin_client_):
    route = make_route("jira", base_url="https://example.atlassian.net", is_simulator=False)
    route.set_secret("jira-token-secret-value")
    route.save()

    page = admin_client_.get(f"/admin/tickets/ticketroute/{route.pk}/change/").content.decode()

    assert "jira-token-secret-value" not in page and route.get_inbound_secret() not in page
    assert "stored (encrypted)" in page


def test_admin_route_create_shows_inbound_secret_once(admin_client_):
    form = {
        "name": "ops-jira",
        "system": "jira",
        "enabled": "on",
        "base_url": "https://example.atlassian.net",
        "username": "bot@example.com",
        "secret": "api-token",
        "min_severity": "high",
        "sources": "[]",
        "categories": "[]",
        "jira_project": "OPS",
        "jira_issue_type": "Task",
        "servicenow_table": "incident",
        "field_mapping": '[{"target": "customfield_10050", "type": "template", "value": "{pipeline} on {connection}"}]',
        "priority_map": '{"critical": "Highest"}',
        "close_code": "Solution provided",
        "close_notes_template": "Resolved in AIMS: {title}",
    }

    response = admin_client_.post("/admin/tickets/ticketroute/add/", form, follow=True)

    route = TicketRoute.objects.get(name="ops-jira")
    secret = route.get_inbound_secret()
    assert len(secret) >= 32 and secret in response.content.decode()
    assert route.get_secret() == "api-token"
    again = admin_client_.get(f"/admin/tickets/ticketroute/{route.pk}/change/").content.decode()
    assert secret not in again


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("field_mapping", '[{"target": "x", "type": "template", "value": "{title.__class__}"}]', "placeholder"),
        ("field_mapping", '[{"target": "labels", "type": "constant", "value": "x"}]', "AIMS sets labels"),
        ("field_mapping", '[{"target": "x", "type": "attribute", "value": "secret_key"}]', "unknown attribute"),
        ("base_url", "http://10.0.0.5", "AIMS cannot send"),
        ("priority_map", '{"urgent": "High"}', "Unknown severity"),
    ],
)
def test_admin_route_hostile_fields_refused_naming_field(admin_client_, field, value, words):
    form = {
        "name": "bad",
        "system": "jira",
        "base_url": "https://example.atlassian.net",
        "username": "bot@example.com",
        "min_severity": "high",
        "sources": "[]",
        "categories": "[]",
        "jira_project": "OPS",
        "servicenow_table": "incident",
        "field_mapping": "[]",
        "priority_map": "{}",
        "close_code": "Solution provided",
        "close_notes_template": "x",
        field: value,
    }

    response = admin_client_.post("/admin/tickets/ticketroute/add/", form)

    assert response.status_code == 200 and words in response.content.decode()
    assert not TicketRoute.objects.filter(name="bad").exists()


def test_admin_jobs_read_only_with_retry(admin_client_):
    route = make_route("jira")
    open_incident()
    TicketSyncJob.objects.update(status="failed")
    job = TicketSyncJob.objects.get()

    admin_client_.post("/admin/tickets/ticketsyncjob/", {"action": "retry", "_selected_action": [job.pk]})

    assert TicketSyncJob.objects.get().status == "pending" and route.jobs.count() == 1
    assert admin_client_.get(f"/admin/tickets/ticketsyncjob/{job.pk}/change/").status_code == 200
    assert admin_client_.post("/admin/tickets/ticketsyncjob/add/").status_code == 403
