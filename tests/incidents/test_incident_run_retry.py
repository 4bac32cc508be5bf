"""Retry now on the incident page: one manual attempt per request token, refused while one is pending or for another
incident's run."""

import pytest

from incidents.models import IncidentEvent
from remediation.models import RetryAttempt
from tests.incidents.incident_page_helpers import events, make_failed_incident, url
from tests.monitors.factories import make_retry_attempt
from tests.monitors.fakes import FakeSourceClient


@pytest.fixture
def fake_client(settings):
    settings.MONITOR_CLIENTS = {
        "adf": "tests.monitors.fakes.FakeSourceClient",
        "databricks": "tests.monitors.fakes.FakeSourceClient",
    }
    FakeSourceClient.calls = []
    FakeSourceClient.runs = []
    return FakeSourceClient


# --- Retry now ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_run_retry_same_token_twice_one_manual_attempt(
    responder_client, responder, fake_client, django_capture_on_commit_callbacks
):
    incident = make_failed_incident()
    run = incident.latest_run
    path = url(incident, f"runs/{run.pk}/retry")

    with django_capture_on_commit_callbacks(execute=True):
        first = responder_client.post(path, {"request_key": "a" * 32})
    with django_capture_on_commit_callbacks(execute=True):
        second = responder_client.post(path, {"request_key": "a" * 32})

    assert first.status_code == second.status_code == 303
    attempt = RetryAttempt.objects.get()
    assert (attempt.run, attempt.trigger, attempt.requested_by) == (run, RetryAttempt.Trigger.MANUAL, responder)
    assert attempt.status == RetryAttempt.Status.RUNNING
    assert [call for call in fake_client.calls if call[0] == "start_rerun"] == [
        ("start_rerun", attempt.idempotency_key)
    ]
    assert IncidentEvent.Kind.RETRY_SCHEDULED in events(incident)


@pytest.mark.django_db
def test_incident_run_retry_while_one_pending_400_explains(responder_client):
    incident = make_failed_incident()
    make_retry_attempt(incident.latest_run, status=RetryAttempt.Status.SCHEDULED)

    response = responder_client.post(url(incident, f"runs/{incident.latest_run_id}/retry"), {"request_key": "b" * 32})

    assert response.status_code == 400
    assert "A retry of this run is already scheduled or running." in response.content.decode()
    assert RetryAttempt.objects.count() == 1


@pytest.mark.django_db
def test_incident_run_retry_without_token_400(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, f"runs/{incident.latest_run_id}/retry"), {})

    assert response.status_code == 400
    assert "Request token: Reload the page and try again." in response.content.decode()
    assert not RetryAttempt.objects.exists()


@pytest.mark.django_db
def test_incident_run_retry_run_of_other_incident_404(responder_client):
    incident, other = make_failed_incident(), make_failed_incident()

    response = responder_client.post(url(incident, f"runs/{other.latest_run_id}/retry"), {"request_key": "c" * 32})

    assert response.status_code == 404
    assert not RetryAttempt.objects.exists()


@pytest.mark.django_db
def test_incident_detail_run_with_pending_retry_offers_no_button(responder_client):
    incident = make_failed_incident()
    make_retry_attempt(incident.latest_run, status=RetryAttempt.Status.RUNNING)

    html = responder_client.get(url(incident)).content.decode()

    assert "Retry pending" in html and "Retry now" not in html
