"""The retry card is live: the incident page's websocket pushes it again when a retry is scheduled or cancelled."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.services import incident_retry_cancel
from remediation.models import RetryAttempt
from tests.incidents.incident_page_helpers import make_failed_incident
from tests.incidents.test_live import _session
from tests.monitors.factories import make_retry_attempt, make_retry_policy


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_retry_card_pushed_after_a_cancel(viewer, responder):
    incident = make_failed_incident()
    policy = make_retry_policy(name="Transient failures", max_attempts=3)
    attempt = make_retry_attempt(
        incident.latest_run,
        policy=policy,
        status=RetryAttempt.Status.SCHEDULED,
        scheduled_for=timezone.now() + timedelta(minutes=10),
    )

    def cancel():
        incident_retry_cancel(incident_id=incident.pk, attempt_id=attempt.pk, user=responder)

    connected, _, (first, update) = _session(f"/ws/incidents/{incident.pk}/", viewer, then=cancel, expect=2)

    assert connected
    assert 'data-testid="retry-card"' in first and 'data-retry-label="retry 1/3"' in first
    assert 'data-testid="retry-state">Scheduled<' in first
    assert 'data-testid="retry-state">Cancelled<' in update and "data-retry-at" not in update
    assert "cancelled by rory" in update
