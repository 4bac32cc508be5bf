"""The Jira and ServiceNow clients and systems against the simulator: shapes, transitions chosen by status category
on two workflows, the ServiceNow close rule, paging, errors."""

import pytest

from incidents.models import Incident
from simulator.testing import run_simulator
from tests.tickets.helpers import make_route
from tickets.clients.jira import JiraClient, JiraError
from tickets.clients.servicenow import ServiceNowClient, ServiceNowError
from tickets.mapping import adf_document
from tickets.systems import system_for


@pytest.fixture(scope="module")
def sim():
    with run_simulator("quiet") as handle:
        yield handle


def _jira_route(sim, **fields):
    route = make_route("jira", base_url=sim.jira_url, username=sim.jira_auth[0], **fields)
    route.set_secret(sim.jira_auth[1])
    route.save()
    return route


def _snow_route(sim, **fields):
    user, password = sim.servicenow_auth
    route = make_route("servicenow", base_url=sim.servicenow_url, username=user, **fields)
    route.set_secret(password)
    route.save()
    return route


@pytest.mark.django_db
@pytest.mark.parametrize("project", ["OPS", "DATA"])
def test_jira_system_moves_by_category_on_each_workflow(sim, project):
    route = _jira_route(sim, jira_project=project)
    system = system_for(route)
    incident = Incident(pk=9000 + len(project), title="Orders load failed", severity="high", category="code")

    ticket = system.create(incident=incident, correlation=route.correlation(incident.pk))
    for category in ("indeterminate", "done", "new", "done"):
        ticket = system.move(key=ticket.key, external_id=ticket.external_id, category=category, incident=incident)
        assert ticket.category == category

    assert system.find(correlation=route.correlation(incident.pk)).key == ticket.key
    assert route.jira_account_id == sim.jira_account_id  # learnt before the first write
    truth = {issue["key"]: issue for issue in sim.jira_truth()}[ticket.key]
    assert truth["category"] == "done" and route.correlation(incident.pk) in truth["labels"]


@pytest.mark.django_db
def test_jira_client_errors_name_field_and_status(sim):
    client = JiraClient(base_url=sim.jira_url, username=sim.jira_auth[0], secret="wrong", is_simulator=True)
    with pytest.raises(JiraError) as refused:
        client.issue_get("OPS-1")
    assert refused.value.status == 401 and not refused.value.retryable

    client = JiraClient(base_url=sim.jira_url, username=sim.jira_auth[0], secret=sim.jira_auth[1], is_simulator=True)
    fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "x", "customfield_10099": "y"}
    with pytest.raises(JiraError) as invalid:
        client.issue_create(fields=fields)
    assert (
        invalid.value.status == 400
        and "customfield_10099" in str(invalid.value)
        and "jira-sim-token" not in str(invalid.value)
    )


@pytest.mark.django_db
def test_jira_client_comments_and_search_paged(sim):
    client = JiraClient(base_url=sim.jira_url, username=sim.jira_auth[0], secret=sim.jira_auth[1], is_simulator=True)
    keys = [
        client.issue_create(
            fields={"project": {"key": "DATA"}, "issuetype": {"name": "Bug"}, "summary": f"s{i}", "labels": ["paged-x"]}
        ).key
        for i in range(55)
    ]
    for i in range(53):
        client.comment_add(keys[0], body=adf_document(f"note {i}"))

    assert sorted(issue.key for issue in client.search_jql('labels = "paged-x"')) == sorted(keys)
    assert [c.text for c in client.comments(keys[0])] == [f"note {i}" for i in range(53)]


@pytest.mark.django_db
def test_servicenow_system_resolve_with_close_code_and_reopen(sim):
    route = _snow_route(sim, close_code="Workaround provided", close_notes_template="Fixed in AIMS: {title}")
    system = system_for(route)
    incident = Incident(pk=9100, title="Nightly export failed", severity="critical", category="transient")

    ticket = system.create(incident=incident, correlation=route.correlation(incident.pk))
    assert ticket.key.startswith("INC") and ticket.category == "new"
    done = system.move(key=ticket.key, external_id=ticket.external_id, category="done", incident=incident)
    again = system.move(key=ticket.key, external_id=ticket.external_id, category="done", incident=incident)
    reopened = system.move(key=ticket.key, external_id=ticket.external_id, category="new", incident=incident)

    assert (done.status, again.category, reopened.status) == ("Resolved", "done", "New")
    record = {r["sys_id"]: r for r in sim.servicenow_truth()}[ticket.external_id]
    assert (
        record["close_code"] == "Workaround provided"
        and record["close_notes"] == "Fixed in AIMS: Nightly export failed"
    )
    assert [w["what"] for w in record["writes"]] == ["create", "transition", "transition"]  # no noop write
    assert system.find(correlation=route.correlation(incident.pk)).external_id == ticket.external_id


@pytest.mark.django_db
def test_servicenow_client_close_rule_and_query_paging(sim):
    user, password = sim.servicenow_auth
    client = ServiceNowClient(base_url=sim.servicenow_url, username=user, secret=password, is_simulator=True)
    record = client.incident_create(fields={"short_description": "x", "correlation_display": "paging-y"})
    with pytest.raises(ServiceNowError) as refused:
        client.incident_update(record.sys_id, fields={"state": "6"})
    assert refused.value.status == 403 and "close_notes" in str(refused.value)
    for _ in range(120):
        client.incident_create(fields={"short_description": "y", "correlation_display": "paging-y"})
    client.incident_update(record.sys_id, fields={"work_notes": "a note"})

    assert len(list(client.incidents_query("correlation_display=paging-y^ORDERBYsys_updated_on"))) == 121
    assert [(e.element, e.text, e.created_by) for e in client.journal(record.sys_id)] == [
        ("work_notes", "a note", user)
    ]


@pytest.mark.django_db
def test_client_refuses_private_address_for_route_not_marked_simulator():
    client = JiraClient(base_url="http://127.0.0.1:9", username="u", secret="s", is_simulator=False)
    with pytest.raises(JiraError) as refused:
        client.issue_get("OPS-1")
    assert "refused" in str(refused.value) and not refused.value.retryable
