"""Incident titles people read: built by triage from the innermost error, shown once in the list, and retitled by a
Responder on the incident page (a Viewer is refused; bad input is a 400 naming the field)."""

import json
from importlib import import_module

import pytest

from aimsweb.headline import HEADLINE_MAX
from incidents.models import Incident, IncidentEvent, Occurrence
from incidents.services import failure_triage
from tests.incidents.incident_page_helpers import events, make_failed_incident, url
from tests.monitors.factories import make_pipeline, make_run

ADF_JSON = json.dumps(
    {
        "errorCode": "2200",
        "message": "Failure happened on 'Sink' side. ErrorCode=SqlOperationFailed,'Type=System.Data.SqlClient."
        'SqlException,Message=Cannot open database "sales" requested by the login. The login failed.,Source=.Net\'',
        "failureType": "UserError",
        "target": "Copy sales",
    },
    indent=4,
)


@pytest.fixture(autouse=True)
def offline(settings):
    settings.AIMS_LLM_MODEL = ""


@pytest.mark.django_db
def test_triage_title_of_a_json_error_is_its_innermost_cause(django_capture_on_commit_callbacks):
    run = make_run(make_pipeline(name="pl_sales"), error_message=ADF_JSON)

    with django_capture_on_commit_callbacks(execute=True):
        incident = failure_triage(run_id=run.pk)

    incident.refresh_from_db()
    assert incident.title.startswith('pl_sales: System.Data.SqlClient.SqlException: Cannot open database "sales"')
    assert len(incident.title) <= HEADLINE_MAX and not incident.title.endswith(("{", ":"))
    assert Occurrence.objects.get().title == incident.title


@pytest.mark.django_db
def test_incident_list_shows_the_title_once_without_the_raw_error(viewer_client):
    incident = make_failed_incident()
    incident.latest_run.error_message = "RAW-ERROR-TEXT {\n"
    incident.latest_run.save(update_fields=["error_message"])

    html = viewer_client.get("/incidents/?status=all").content.decode()

    assert incident.title in html and "RAW-ERROR-TEXT" not in html
    assert "RAW-ERROR-TEXT" in viewer_client.get(url(incident)).content.decode()  # the full error on its page


@pytest.mark.django_db
def test_incident_title_responder_retitles_with_an_updated_event(responder_client):
    incident = make_failed_incident()
    before = incident.title

    response = responder_client.post(url(incident, "title"), {"title": "  Sales copy: login to the sink refused "})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.title == "Sales copy: login to the sink refused"
    updated = incident.events.get(kind=IncidentEvent.Kind.UPDATED)
    assert updated.params["changes"]["title"] == [before, "Sales copy: login to the sink refused"]
    page = responder_client.get(url(incident)).content.decode()
    assert f'action="/incidents/{incident.pk}/title/"' in page and "Edit title" in page


@pytest.mark.django_db
def test_incident_title_htmx_answers_the_page_with_the_new_title(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(
        url(incident, "title"), {"title": "New <b>title</b>"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200 and '<div id="incident-main">' in html
    assert '<h1 id="incident-title">New &lt;b&gt;title&lt;/b&gt;</h1>' in html


@pytest.mark.django_db
def test_incident_title_viewer_refused_403_and_unchanged(viewer_client):
    incident = make_failed_incident()
    before = events(incident)

    response = viewer_client.post(url(incident, "title"), {"title": "hijacked"})

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.title != "hijacked" and events(incident) == before
    assert "Edit title" not in viewer_client.get(url(incident)).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title", "problem"),
    [
        ("", "Title: Give a title."),
        ("x" * 121, "Title: At most 120 characters (121 given)."),
        ("a\u202eb", "Title: One line"),
    ],
)
def test_incident_title_bad_input_400_names_the_field(responder_client, title, problem):
    incident = make_failed_incident()
    before = incident.title

    response = responder_client.post(url(incident, "title"), {"title": title})

    assert response.status_code == 400 and problem in response.content.decode()
    assert Incident.objects.get(pk=incident.pk).title == before


@pytest.mark.django_db
def test_incident_title_unknown_incident_404(responder_client):
    assert responder_client.post("/incidents/999999/title/", {"title": "x"}).status_code == 404


@pytest.mark.django_db
def test_titles_migration_rewrites_generated_titles_and_keeps_edited_ones(responder_client):
    from django.apps import apps

    titles_readable = import_module("incidents.migrations.0017_titles_readable").titles_readable
    old = make_failed_incident()
    old.latest_run.error_message = ADF_JSON
    old.latest_run.save(update_fields=["error_message"])
    Incident.objects.filter(pk=old.pk).update(title=f"{old.pipeline.name} / Copy sales: {{")
    edited = make_failed_incident()
    responder_client.post(url(edited, "title"), {"title": "Our own words {"})
    other = make_failed_incident()
    Incident.objects.filter(pk=other.pk).update(source=Occurrence.Source.ANOMALY)
    Occurrence.objects.filter(incident=other).update(source=Occurrence.Source.ANOMALY, title="word " * 50)

    titles_readable(apps, None)

    old.refresh_from_db()
    assert old.title.startswith(f"{old.pipeline.name}: System.Data.SqlClient.SqlException: Cannot open database")
    assert Occurrence.objects.get(incident=old).title == old.title
    assert Incident.objects.get(pk=edited.pk).title == "Our own words {"
    assert len(Incident.objects.get(pk=other.pk).title) <= HEADLINE_MAX
