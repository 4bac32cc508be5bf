"""Safe retries on the incident page: a retry the analysis advises against asks first (enforced by the server), and a
scheduled retry can be cancelled by a Responder, never by a Viewer nor through another incident."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import FailureAnalysis, IncidentEvent
from remediation.models import RetryAttempt
from tests.incidents.incident_page_helpers import make_failed_incident, url
from tests.monitors.factories import make_retry_attempt, make_retry_policy
from tests.monitors.fakes import FakeSourceClient

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def fake_client(settings):
    settings.MONITOR_CLIENTS = {
        "adf": "tests.monitors.fakes.FakeSourceClient",
        "databricks": "tests.monitors.fakes.FakeSourceClient",
    }
    FakeSourceClient.calls = []
    FakeSourceClient.runs = []
    return FakeSourceClient


def not_advised_incident(**analysis_fields):
    incident = make_failed_incident()
    fields = {"should_retry": False, "root_cause": "The target table's schema changed: column <b>amount</b> is gone."}
    FailureAnalysis.objects.filter(incident=incident).update(**{**fields, **analysis_fields})
    return incident


def retry_path(incident) -> str:
    return url(incident, f"runs/{incident.latest_run_id}/retry")


# --- Confirmation -----------------------------------------------------------------------------------------------------


def test_run_retry_not_advised_first_post_asks_with_the_reason_and_starts_nothing(responder_client):
    incident = not_advised_incident()

    response = responder_client.post(retry_path(incident), {"request_key": "k" * 32}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#run-retry-{incident.latest_run_id}"
    assert 'data-testid="retry-confirm"' in html and "Retry anyway" in html
    assert "The analysis does not advise a retry: The target table&#x27;s schema changed" in html
    assert "&lt;b&gt;amount&lt;/b&gt;" in html  # the reason is text, escaped
    assert 'name="confirm" value="yes"' in html and "k" * 32 in html
    assert not RetryAttempt.objects.exists()


def test_run_retry_manual_fix_required_asks_even_when_retry_advised(responder_client):
    incident = not_advised_incident(should_retry=True, manual_intervention_required=True)

    response = responder_client.post(retry_path(incident), {"request_key": "m" * 32})

    assert response.status_code == 200
    assert "The analysis says a manual fix is required" in response.content.decode()
    assert not RetryAttempt.objects.exists()


def test_run_retry_not_advised_with_confirm_starts_it(responder_client, django_capture_on_commit_callbacks):
    incident = not_advised_incident()

    with django_capture_on_commit_callbacks(execute=True):
        response = responder_client.post(retry_path(incident), {"request_key": "k" * 32, "confirm": "yes"})

    assert response.status_code == 303
    attempt = RetryAttempt.objects.get()
    assert attempt.trigger == RetryAttempt.Trigger.MANUAL
    assert incident.events.filter(kind=IncidentEvent.Kind.RETRY_SCHEDULED).exists()


@pytest.mark.parametrize("confirm", ["", "off", "on", "true", "1", "YES"])
def test_run_retry_not_advised_confirm_bypass_refused(responder_client, confirm):
    incident = not_advised_incident()

    response = responder_client.post(retry_path(incident), {"request_key": "k" * 32, "confirm": confirm})

    assert response.status_code == 200 and "Retry anyway" in response.content.decode()
    assert not RetryAttempt.objects.exists()


def test_run_retry_advised_starts_without_confirmation(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(retry_path(incident), {"request_key": "a" * 32})

    assert response.status_code == 303
    assert RetryAttempt.objects.count() == 1


def test_run_retry_viewer_403_even_with_confirm(viewer_client):
    incident = not_advised_incident()

    response = viewer_client.post(retry_path(incident), {"request_key": "k" * 32, "confirm": "yes"})

    assert response.status_code == 403
    assert not RetryAttempt.objects.exists()


# --- Retry card and cancel --------------------------------------------------------------------------------------------


def scheduled_attempt(incident, **fields) -> RetryAttempt:
    policy = make_retry_policy(name="Transient failures", max_attempts=3)
    defaults = {"policy": policy, "status": RetryAttempt.Status.SCHEDULED, "attempt_number": 2}
    defaults["scheduled_for"] = timezone.now() + timedelta(minutes=5)
    return make_retry_attempt(incident.latest_run, **{**defaults, **fields})


def test_incident_page_retry_card_shows_next_attempt_policy_and_cancel(responder_client):
    incident = make_failed_incident()
    scheduled_attempt(incident)

    html = responder_client.get(url(incident)).content.decode()

    assert 'data-testid="retry-card"' in html
    assert "Transient failures" in html
    assert 'data-retry-label="retry 2/3"' in html and ">retry 2/3 in " in html
    assert 'data-testid="retry-cancel"' in html


def test_incident_page_retry_card_viewer_sees_no_cancel(viewer_client):
    incident = make_failed_incident()
    scheduled_attempt(incident)

    html = viewer_client.get(url(incident)).content.decode()

    assert 'data-testid="retry-card"' in html and 'data-testid="retry-cancel"' not in html


def test_retry_cancel_by_responder_cancels_with_timeline_entry(responder_client, responder):
    incident = make_failed_incident()
    attempt = scheduled_attempt(incident)

    response = responder_client.post(url(incident, "retries/cancel"), {"attempt": attempt.pk}, headers=HTMX)

    assert response.status_code == 200
    attempt.refresh_from_db()
    assert attempt.status == RetryAttempt.Status.CANCELLED
    event = incident.events.get(kind=IncidentEvent.Kind.RETRY_SKIPPED)
    assert event.actor_user == responder
    assert event.text == "Retry 2 cancelled: cancelled by rory."
    assert "Retry 2 cancelled: cancelled by rory." in response.content.decode()


def test_retry_cancel_by_viewer_403(viewer_client):
    incident = make_failed_incident()
    attempt = scheduled_attempt(incident)

    response = viewer_client.post(url(incident, "retries/cancel"), {"attempt": attempt.pk})

    assert response.status_code == 403
    attempt.refresh_from_db()
    assert attempt.status == RetryAttempt.Status.SCHEDULED


def test_retry_cancel_attempt_of_another_incident_404(responder_client):
    incident, other = make_failed_incident(), make_failed_incident()
    attempt = scheduled_attempt(other)

    response = responder_client.post(url(incident, "retries/cancel"), {"attempt": attempt.pk})

    assert response.status_code == 404
    attempt.refresh_from_db()
    assert attempt.status == RetryAttempt.Status.SCHEDULED


@pytest.mark.parametrize("attempt", ["", "abc", "-1", str(2**64), "99999999"])
def test_retry_cancel_bad_or_unknown_attempt_is_400_or_404(responder_client, attempt):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "retries/cancel"), {"attempt": attempt})

    assert response.status_code == (404 if attempt == "99999999" else 400)


def test_retry_cancel_running_attempt_400_explains(responder_client):
    incident = make_failed_incident()
    attempt = scheduled_attempt(incident, status=RetryAttempt.Status.RUNNING)

    response = responder_client.post(url(incident, "retries/cancel"), {"attempt": attempt.pk})

    assert response.status_code == 400
    assert "only a scheduled retry can be cancelled" in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.status == RetryAttempt.Status.RUNNING
