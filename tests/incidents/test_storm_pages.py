"""A storm's incident on the pages: the list says how many pipelines it counts, the incident page lists them with
their state; Responders merge an incident into another and split a pipeline's part out, Viewers cannot."""

import pytest

from incidents.models import Incident, IncidentPipeline
from incidents.services import failure_triage
from tests.monitors.factories import make_connection, make_pipeline, make_run

SHIR = (
    "ErrorCode=UserErrorSelfHostedIntegrationRuntimeOffline: The self-hosted integration runtime 'shir-1' is offline."
)


@pytest.fixture(autouse=True)
def offline(settings):
    settings.AIMS_LLM_MODEL = ""
    settings.AIMS_STORM_WINDOW_MINUTES = 30


def _storm(pipelines: int = 3) -> tuple[Incident, list]:
    connection = make_connection()
    members = [make_pipeline(connection) for _ in range(pipelines)]
    incidents = {failure_triage(run_id=make_run(pipeline=pipeline, error_message=SHIR).pk) for pipeline in members}
    assert len(incidents) == 1
    incident = incidents.pop()
    assert incident is not None
    return incident, members


@pytest.mark.django_db
def test_storm_pages_list_and_detail_show_the_affected_pipelines(viewer_client):
    incident, members = _storm(3)

    listed = viewer_client.get("/incidents/").content.decode()
    page = viewer_client.get(f"/incidents/{incident.pk}/").content.decode()

    assert "+2 more · 3 pipelines" in listed
    assert "Affected pipelines (3)" in page and "3 still failing" in page
    assert all(pipeline.name in page for pipeline in members)
    assert "Split out" not in page and "Merge into" not in page  # a Viewer's page offers neither


@pytest.mark.django_db
def test_storm_pages_viewer_may_neither_split_nor_merge(viewer_client):
    incident, members = _storm(2)
    other, _ = _storm(2)

    split = viewer_client.post(f"/incidents/{incident.pk}/split/", {"pipeline": members[0].pk})
    merge = viewer_client.post(f"/incidents/{incident.pk}/merge/", {"into": other.pk})

    assert (split.status_code, merge.status_code) == (403, 403)
    assert Incident.objects.count() == 2 and not Incident.objects.filter(status="resolved").exists()


@pytest.mark.django_db
def test_storm_pages_responder_splits_a_pipeline_out(responder_client):
    incident, members = _storm(3)
    page = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Split out" in page

    answer = responder_client.post(
        f"/incidents/{incident.pk}/split/", {"pipeline": members[1].pk, "note": "<script>alert(1)</script>"}
    )

    assert answer.status_code == 303 and answer["Location"] == f"/incidents/{incident.pk}/"
    new = Incident.objects.exclude(pk=incident.pk).get()
    assert IncidentPipeline.objects.get(pipeline=members[1]).incident_id == new.pk
    shown = responder_client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"split out into incident #{new.pk}" in shown and "Affected pipelines (2)" in shown
    assert "<script>alert(1)</script>" not in shown and "&lt;script&gt;" in shown


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pipeline", "problem"),
    [("", "Pipeline: Name the pipeline."), ("x", "Pipeline: Enter a whole number."), ("foreign", "not one of")],
)
def test_storm_pages_split_bad_pipeline_is_a_400_naming_it(responder_client, pipeline, problem):
    incident, _ = _storm(2)
    value = make_pipeline().pk if pipeline == "foreign" else pipeline

    answer = responder_client.post(f"/incidents/{incident.pk}/split/", {"pipeline": value})

    assert answer.status_code == 400 and problem in answer.content.decode()
    assert Incident.objects.count() == 1


@pytest.mark.django_db
def test_storm_pages_responder_merges_into_an_open_incident(responder_client):
    target, _ = _storm(2)
    source, members = _storm(2)

    answer = responder_client.post(f"/incidents/{source.pk}/merge/", {"into": target.pk, "note": "same SHIR"})

    assert answer.status_code == 303 and answer["Location"] == f"/incidents/{target.pk}/"
    source.refresh_from_db()
    assert source.status == "resolved"
    assert IncidentPipeline.objects.filter(incident=target).count() == 4
    assert "Affected pipelines (4)" in responder_client.get(f"/incidents/{target.pk}/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("into", ["self", "missing", "resolved", "", "-3"])
def test_storm_pages_merge_refused_is_a_400_naming_why(responder_client, into):
    source, _ = _storm(2)
    resolved, _ = _storm(2)
    Incident.objects.filter(pk=resolved.pk).update(status="resolved")
    value = {"self": source.pk, "missing": 999_999, "resolved": resolved.pk}.get(into, into)

    answer = responder_client.post(f"/incidents/{source.pk}/merge/", {"into": value})

    assert answer.status_code == 400
    assert "Could not merge" in answer.content.decode()
    source.refresh_from_db()
    assert source.status == "triggered"
