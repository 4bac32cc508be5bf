"""The API's "retry this run" for a retry the analysis advises against: 422 needed_for_action naming `force` unless
the body says `"force": true`; and the API keeps notes as raw text (pages render them as markdown)."""

import pytest

from aimsweb.roles import Role
from incidents.models import FailureAnalysis
from incidents.services import Actor, incident_comment
from remediation.models import RetryAttempt
from tests.api.incident_helpers import post
from tests.incidents.incident_page_helpers import make_failed_incident

pytestmark = pytest.mark.django_db


def not_advised():
    incident = make_failed_incident()
    FailureAnalysis.objects.filter(incident=incident).update(should_retry=False, root_cause="Column amount is gone.")
    return incident


def retry(client, incident, body=None, **headers):
    return post(client, f"/api/v1/incidents/{incident.pk}/runs/{incident.latest_run_id}/retry", body, **headers)


def test_run_retry_not_advised_without_force_is_422_naming_force(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = not_advised()

    response = retry(client, incident)

    assert response.status_code == 422, response.content
    problem = response.json()
    assert problem["code"] == "needed_for_action"
    assert problem["errors"][0]["field"] == "force"
    assert "Column amount is gone." in problem["errors"][0]["message"]
    assert not RetryAttempt.objects.exists()


@pytest.mark.parametrize("body", [{"force": False}, {}, None])
def test_run_retry_not_advised_force_false_or_absent_is_refused(key_client, body):
    client, _ = key_client(Role.RESPONDER)
    incident = not_advised()

    assert retry(client, incident, body).status_code == 422
    assert not RetryAttempt.objects.exists()


def test_run_retry_not_advised_with_force_is_202(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = not_advised()

    response = retry(client, incident, {"force": True}, HTTP_IDEMPOTENCY_KEY="forced-1")

    assert response.status_code == 202, response.content
    assert RetryAttempt.objects.get().trigger == RetryAttempt.Trigger.MANUAL


def test_run_retry_force_not_a_boolean_is_400_naming_it(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = not_advised()

    response = retry(client, incident, {"force": "maybe"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "force"
    assert not RetryAttempt.objects.exists()


def test_run_retry_advised_needs_no_force(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_failed_incident()

    assert retry(client, incident).status_code == 202


def test_api_timeline_keeps_the_raw_note(key_client, make_user):
    responder = make_user("rhea", Role.RESPONDER)
    incident = make_failed_incident()
    note = "**bold** <script>alert(1)</script>"
    incident_comment(incident_id=incident.pk, actor=Actor.of_user(responder), text=note)
    client, _ = key_client(Role.VIEWER)

    rows = client.get(f"/api/v1/incidents/{incident.pk}/timeline").json()["results"]

    assert note in [row.get("note") for row in rows] or note in [row.get("text") for row in rows], rows
