"""An incident's timeline, runs, analyses and retry attempts through the API (typed, keyset-paged, a fixed number of
queries), and "retry this run"."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aimsweb.roles import Role
from incidents.models import Incident
from incidents.services import Actor, incident_comment
from monitors.models import PipelineRun
from remediation.models import RetryAttempt
from tests.api.incident_helpers import demoted_key_client, last_event, post
from tests.incidents.factories import make_analysis, make_incident
from tests.incidents.incident_page_helpers import make_failed_incident
from tests.monitors.factories import make_retry_attempt, make_run

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> int:
    client.get(url)  # the key's last use is written once a minute: not on the measured request
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured)


def add_runs(incident: Incident, count: int) -> None:
    for _ in range(count):
        run = make_run(pipeline=incident.pipeline)
        make_analysis(run, incident=incident)
        make_retry_attempt(run, status=RetryAttempt.Status.FAILED)


def test_incident_timeline_typed_events_oldest_first(key_client, responder):
    client, _ = key_client(Role.VIEWER)
    incident = make_incident()
    incident_comment(incident_id=incident.pk, actor=Actor.of_user(responder), text="On it")

    response = client.get(f"/api/v1/incidents/{incident.pk}/timeline")

    assert response.status_code == 200
    opened, commented = response.json()["results"]
    assert opened["kind"] == "opened" and opened["text"].startswith("Opened by")
    assert opened["actor"] == {"type": "system", "label": "System", "username": None}
    assert (commented["kind"], commented["text"], commented["note"]) == ("commented", "On it", "On it")
    assert commented["actor"] == {"type": "user", "label": responder.username, "username": responder.username}
    assert set(opened) == {"id", "kind", "text", "note", "actor", "params", "created_at"}


def test_incident_timeline_filters_by_kind_and_pages_newest_first(key_client, responder):
    client, _ = key_client(Role.VIEWER)
    incident = make_incident()
    for n in range(3):
        incident_comment(incident_id=incident.pk, actor=Actor.of_user(responder), text=f"c{n}")

    only = client.get(f"/api/v1/incidents/{incident.pk}/timeline?kind=opened").json()["results"]
    page = client.get(f"/api/v1/incidents/{incident.pk}/timeline?kind=commented&sort=-created_at&limit=2").json()
    rest = client.get(page["next"]).json()

    assert [event["kind"] for event in only] == ["opened"]
    assert [event["note"] for event in page["results"] + rest["results"]] == ["c2", "c1", "c0"]


def test_incident_timeline_bad_kind_is_400_and_missing_incident_404(key_client):
    client, _ = key_client(Role.VIEWER)
    incident = make_incident()

    bad = client.get(f"/api/v1/incidents/{incident.pk}/timeline?kind=bogus")
    missing = client.get("/api/v1/incidents/99999999999999999999/timeline")

    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "kind"
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


def test_incident_timeline_queries_constant_with_1_or_20_events(key_client, responder):
    client, _ = key_client(Role.VIEWER)
    few, many = make_incident(), make_incident()
    for n in range(19):
        incident_comment(incident_id=many.pk, actor=Actor.of_user(responder), text=f"c{n}")

    assert queries(client, f"/api/v1/incidents/{few.pk}/timeline") == queries(
        client, f"/api/v1/incidents/{many.pk}/timeline"
    )


@pytest.mark.parametrize("part", ["runs", "analyses", "attempts"])
def test_incident_parts_queries_constant_with_1_or_20_rows(key_client, part):
    client, _ = key_client(Role.VIEWER)
    few, many = make_failed_incident(), make_failed_incident()
    add_runs(few, 1)
    add_runs(many, 20)

    one, twenty = (
        queries(client, f"/api/v1/incidents/{few.pk}/{part}"),
        queries(client, f"/api/v1/incidents/{many.pk}/{part}"),
    )

    assert one == twenty <= 8
    assert len(client.get(f"/api/v1/incidents/{many.pk}/{part}").json()["results"]) >= 20


def test_incident_runs_show_status_times_headline_and_platform_id(key_client):
    client, _ = key_client(Role.VIEWER)
    incident = make_failed_incident()
    run = incident.latest_run

    [row] = client.get(f"/api/v1/incidents/{incident.pk}/runs").json()["results"]

    assert row["id"] == run.pk and row["platform_run_id"] == run.external_run_id
    assert row["status"] == "failed" and row["started_at"] and row["ended_at"]
    assert row["error_headline"] == "Copy sales failed: source timed out"
    assert row["pipeline"] == {"id": run.pipeline_id, "name": run.pipeline.name} and row["retry_pending"] is False


def test_incident_analyses_show_class_cause_advice_and_model(key_client):
    client, _ = key_client(Role.VIEWER)
    incident = make_failed_incident()

    [row] = client.get(f"/api/v1/incidents/{incident.pk}/analyses").json()["results"]

    assert (row["error_class"], row["should_retry"], row["confidence"]) == ("transient", True, 90)
    assert row["root_cause"] == "The source server was restarted during the copy."
    assert (row["analyzer"], row["model"]) == ("llm", "gpt-test-mini")


def test_incident_attempts_show_state_mode_and_outcome(key_client):
    client, _ = key_client(Role.VIEWER)
    incident = make_failed_incident()
    make_retry_attempt(incident.latest_run, status=RetryAttempt.Status.SCHEDULED)

    [row] = client.get(f"/api/v1/incidents/{incident.pk}/attempts").json()["results"]

    assert (row["state"], row["mode"], row["outcome"], row["trigger"]) == ("scheduled", "recover", None, "policy")
    assert row["platform_run_id"] == incident.latest_run.external_run_id


# --- Retry this run -------------------------------------------------------------------------------------------------


def retry(client, incident: Incident, run: PipelineRun, **headers):
    return post(client, f"/api/v1/incidents/{incident.pk}/runs/{run.pk}/retry", **headers)


def test_incident_run_retry_with_key_is_202_with_the_attempt_and_key_as_actor(key_client):
    client, key = key_client(Role.RESPONDER)
    incident = make_failed_incident()

    response = retry(client, incident, incident.latest_run, HTTP_IDEMPOTENCY_KEY="retry-1")
    again = retry(client, incident, incident.latest_run, HTTP_IDEMPOTENCY_KEY="retry-1")

    assert response.status_code == 202, response.content
    assert (response.json()["state"], response.json()["trigger"]) == ("scheduled", "manual")
    assert response.json()["requested_by"] == key.user.username
    assert again.status_code == 202 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == response.json()
    assert RetryAttempt.objects.count() == 1
    event = last_event(incident)
    assert (event.kind, event.actor_type, event.actor_label) == ("retry_scheduled", "api_key", key.actor_label)


def test_incident_run_retry_pending_is_409_retry_refused(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_failed_incident()
    make_retry_attempt(incident.latest_run, status=RetryAttempt.Status.SCHEDULED)

    response = retry(client, incident, incident.latest_run)

    assert response.status_code == 409 and response.json()["code"] == "retry_refused"
    assert RetryAttempt.objects.count() == 1


def test_incident_run_retry_of_another_incidents_run_is_404(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident, other = make_failed_incident(), make_failed_incident()

    response = retry(client, incident, other.latest_run)

    assert response.status_code == 404
    assert not RetryAttempt.objects.exists()


def test_incident_run_retry_viewer_key_is_403(key_client):
    client, _ = demoted_key_client(key_client)
    incident = make_failed_incident()

    response = retry(client, incident, incident.latest_run)

    assert response.status_code == 403 and response.json()["code"] == "role_forbidden"
    assert not RetryAttempt.objects.exists()


def test_incident_parts_unknown_incident_is_404(key_client):
    client, _ = key_client(Role.VIEWER)

    for part in ("runs", "analyses", "attempts", "tickets"):
        response = client.get(f"/api/v1/incidents/{2**63}/{part}")
        assert response.status_code == 404, part


def test_incident_analysis_counted_elsewhere_is_not_listed(key_client):
    client, _ = key_client(Role.VIEWER)
    incident = make_failed_incident()
    make_analysis(make_run(pipeline=incident.pipeline), incident=make_incident())

    rows = client.get(f"/api/v1/incidents/{incident.pk}/analyses").json()["results"]

    assert [row["id"] for row in rows] == [incident.analysis_id]
