"""POST /incidents/{id}/merge and /incidents/bulk through the API."""

from datetime import timedelta

import pytest
from django.utils import timezone

from aimsweb.roles import Role
from incidents.models import FailureAnalysis, Incident, IncidentEvent, Occurrence
from tests.api.incident_helpers import demoted_key_client, kinds, last_event, post
from tests.incidents.factories import make_incident
from tests.incidents.incident_page_helpers import make_failed_incident

pytestmark = pytest.mark.django_db


def merge(client, target: Incident, sources: list, **headers):
    return post(client, f"/api/v1/incidents/{target.pk}/merge", {"sources": sources}, **headers)


def test_incident_merge_moves_occurrences_and_resolves_sources(key_client):
    client, key = key_client(Role.RESPONDER)
    target = make_failed_incident(occurrence_count=2)
    first, second = make_failed_incident(occurrence_count=3), make_failed_incident()

    response = merge(client, target, [second.pk, first.pk, first.pk])

    assert response.status_code == 200, response.content
    assert response.json()["occurrence_count"] == 6 and response.headers["ETag"]
    assert Occurrence.objects.filter(incident=target).count() == 3
    assert FailureAnalysis.objects.filter(incident=target).count() == 3
    for source in (first, second):
        source.refresh_from_db()
        event = last_event(source)
        assert source.status == Incident.Status.RESOLVED
        assert (event.kind, event.params, event.actor_label) == ("merged", {"into": target.pk}, key.actor_label)
    event = last_event(target)
    assert (event.kind, event.params["sources"]) == ("merged", sorted([first.pk, second.pk]))
    assert event.text == f"Incidents #{min(first.pk, second.pk)}, #{max(first.pk, second.pk)} merged into this one."
    runs = client.get(f"/api/v1/incidents/{target.pk}/runs").json()["results"]
    assert len(runs) == 3


def test_incident_merge_into_itself_is_422_and_changes_nothing(key_client):
    client, _ = key_client(Role.RESPONDER)
    target = make_incident()

    response = merge(client, target, [target.pk])

    assert response.status_code == 422 and response.json()["code"] == "merge_into_self"
    assert kinds(target) == ["opened"]


def test_incident_merge_missing_source_is_422_and_changes_nothing(key_client):
    client, _ = key_client(Role.RESPONDER)
    target, source = make_incident(), make_incident()

    response = merge(client, target, [source.pk, 10**12])

    assert response.status_code == 422 and response.json()["code"] == "merge_source_missing"
    assert f"#{10**12}" in response.json()["detail"]
    source.refresh_from_db()
    assert source.status == Incident.Status.TRIGGERED and kinds(source) == ["opened"]


def test_incident_merge_already_merged_source_is_409(key_client):
    client, _ = key_client(Role.RESPONDER)
    target, other, source = make_incident(), make_incident(), make_incident()
    assert merge(client, other, [source.pk]).status_code == 200

    response = merge(client, target, [source.pk])

    assert response.status_code == 409 and response.json()["code"] == "already_merged"
    assert kinds(target) == ["opened"]


def test_incident_merge_into_resolved_target_is_409(key_client):
    client, _ = key_client(Role.RESPONDER)
    target, source = make_incident(status=Incident.Status.RESOLVED), make_incident()

    response = merge(client, target, [source.pk])

    assert response.status_code == 409 and response.json()["code"] == "already_resolved"


def test_incident_merge_stale_if_match_is_412_and_changes_nothing(key_client):
    client, _ = key_client(Role.RESPONDER)
    target, source = make_incident(), make_incident()
    stale = client.get(f"/api/v1/incidents/{target.pk}").headers["ETag"]
    post(client, f"/api/v1/incidents/{target.pk}/acknowledge")

    response = merge(client, target, [source.pk], HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert Occurrence.objects.filter(incident=source).count() == 1 and kinds(source) == ["opened"]


@pytest.mark.parametrize("sources", [[], [0], [-3], [2**63], ["abc"], "1,2", None, list(range(1, 52))])
def test_incident_merge_bad_sources_is_400_naming_sources(key_client, sources):
    client, _ = key_client(Role.RESPONDER)
    target = make_incident()

    response = merge(client, target, sources)

    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"].startswith("sources")


# --- Bulk -----------------------------------------------------------------------------------------------------------


def bulk(client, body, **headers):
    return post(client, "/api/v1/incidents/bulk", body, **headers)


def test_incident_bulk_acknowledge_reports_each_id(key_client):
    client, key = key_client(Role.RESPONDER)
    triggered = make_incident()
    acknowledged = make_incident(status=Incident.Status.ACKNOWLEDGED)
    resolved = make_incident(status=Incident.Status.RESOLVED)

    response = bulk(client, {"ids": [resolved.pk, triggered.pk, acknowledged.pk, 10**9], "action": "acknowledge"})

    assert response.status_code == 200, response.content
    body = response.json()
    outcomes = {row["id"]: (row["outcome"], row["code"]) for row in body["results"]}
    assert outcomes == {
        triggered.pk: ("done", ""),
        acknowledged.pk: ("unchanged", "already_acknowledged"),
        resolved.pk: ("refused", "already_resolved"),
        10**9: ("not_found", "not_found"),
    }
    assert (body["action"], body["done"]) == ("acknowledge", 1)
    assert last_event(triggered).actor_label == key.actor_label


def test_incident_bulk_silence_and_assign_use_params(key_client, make_user):
    client, _ = key_client(Role.RESPONDER)
    ada = make_user("ada", Role.RESPONDER)
    first, second = make_incident(), make_incident()
    until = (timezone.now() + timedelta(hours=2)).isoformat()

    silenced = bulk(client, {"ids": [first.pk], "action": "silence", "params": {"until": until, "reason": "window"}})
    assigned = bulk(client, {"ids": [first.pk, second.pk], "action": "assign", "params": {"assignee": "ada"}})

    assert silenced.status_code == assigned.status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Incident.Status.SILENCED and last_event(first).kind == IncidentEvent.Kind.ASSIGNED
    assert first.assignee == second.assignee == ada


def test_incident_bulk_more_than_250_ids_is_413(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = bulk(client, {"ids": list(range(1, 252)), "action": "resolve"})

    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "bulk_too_large"
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"ids": [], "action": "resolve"}, "ids"),
        ({"ids": [1, "x"], "action": "resolve"}, "ids.1"),
        ({"ids": [2**64], "action": "resolve"}, "ids.0"),
        ({"ids": [1], "action": "delete"}, "action"),
        ({"ids": [1], "action": "silence"}, "params.until"),
        ({"ids": [1], "action": "silence", "params": {"until": "2000-01-01T00:00:00Z"}}, "params.until"),
        ({"ids": [1], "action": "assign"}, "params.assignee"),
        ({"ids": [1], "action": "assign", "params": {"assignee": "ghost"}}, "params.assignee"),
        ({"ids": "1,2", "action": "resolve"}, "ids"),
    ],
)
def test_incident_bulk_bad_input_is_400_naming_field(key_client, body, field):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident()

    response = bulk(client, body)

    # A well-formed username naming nobody, or a moment in the past, is unprocessable (422); the rest is malformed.
    params = body.get("params", {})
    unprocessable = (
        params.get("assignee") == "ghost"
        or params.get("until") == "2000-01-01T00:00:00Z"
        or (body["action"] in {"silence", "assign"} and not params)
    )
    assert response.status_code == (422 if unprocessable else 400), response.content
    assert response.json()["errors"][0]["field"] == field
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


def test_incident_bulk_viewer_key_is_403_role_forbidden(key_client):
    client, _ = demoted_key_client(key_client)
    incident = make_incident()

    response = bulk(client, {"ids": [incident.pk], "action": "resolve"})

    assert response.status_code == 403 and response.json()["code"] == "role_forbidden"
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED
