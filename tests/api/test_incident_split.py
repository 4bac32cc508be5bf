"""POST /incidents/{id}/split through the API: one pipeline's part of a storm's incident moves out."""

import pytest

from aimsweb.roles import Role
from incidents.models import Incident, IncidentPipeline
from incidents.services import failure_triage
from tests.api.incident_helpers import kinds, post
from tests.monitors.factories import make_connection, make_pipeline, make_run

pytestmark = pytest.mark.django_db

SHIR = (
    "ErrorCode=UserErrorSelfHostedIntegrationRuntimeOffline: The self-hosted integration runtime 'shir-1' is offline."
)


@pytest.fixture(autouse=True)
def offline(settings):
    settings.AIMS_LLM_MODEL = ""
    settings.AIMS_STORM_WINDOW_MINUTES = 30


def _storm(pipelines: int) -> tuple[Incident, list]:
    connection = make_connection()
    members = [make_pipeline(connection) for _ in range(pipelines)]
    incident = None
    for pipeline in members:
        incident = failure_triage(run_id=make_run(pipeline=pipeline, error_message=SHIR).pk)
    assert incident is not None
    return incident, members


def test_incident_split_answers_the_new_incident(key_client):
    client, key = key_client(Role.RESPONDER)
    incident, members = _storm(3)

    response = post(client, f"/api/v1/incidents/{incident.pk}/split", {"pipeline": members[2].pk, "note": "own"})

    assert response.status_code == 201, response.content
    new = Incident.objects.get(pk=response.json()["id"])
    assert new.pk != incident.pk and response.headers["ETag"]
    assert IncidentPipeline.objects.get(pipeline=members[2]).incident_id == new.pk
    assert kinds(incident)[-1] == "split" and "split" in kinds(new)
    assert incident.events.get(kind="split").actor_label == key.actor_label


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [({}, 400, "pipeline"), ({"pipeline": "x"}, 400, "pipeline"), ({"pipeline": 10**12}, 400, "pipeline")],
)
def test_incident_split_bad_pipeline_is_400_naming_it(key_client, body, status, field):
    client, _ = key_client(Role.RESPONDER)
    incident, _ = _storm(2)

    response = post(client, f"/api/v1/incidents/{incident.pk}/split", body)

    assert response.status_code == status and field in response.content.decode()
    assert Incident.objects.count() == 1


def test_incident_split_single_pipeline_is_422(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident, members = _storm(1)

    response = post(client, f"/api/v1/incidents/{incident.pk}/split", {"pipeline": members[0].pk})

    assert response.status_code == 422 and response.json()["code"] == "split_single_pipeline"


def test_incident_split_needs_a_responder(key_client):
    client, _ = key_client(Role.VIEWER)
    incident, members = _storm(2)

    response = post(client, f"/api/v1/incidents/{incident.pk}/split", {"pipeline": members[0].pk})

    assert response.status_code == 403
    assert Incident.objects.count() == 1
