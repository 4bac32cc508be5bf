"""Retry badges ("retry 2/3 in 4:59", "retrying…") on every list of incidents or runs: one query for a page of rows
whatever its size, the countdown's time and label as data for retries.js."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.pages.incident_list import incident_list_page
from incidents.pages.retries import clock_text, retry_badge
from incidents.selectors import incident_pending_attempts
from remediation.models import RetryAttempt
from tests.incidents.incident_page_helpers import make_failed_incident
from tests.monitors.factories import make_retry_attempt, make_retry_policy

pytestmark = pytest.mark.django_db


def with_attempt(status: str = RetryAttempt.Status.SCHEDULED, minutes: int = 5, number: int = 2):
    incident = make_failed_incident()
    policy = make_retry_policy(max_attempts=3)
    attempt = make_retry_attempt(
        incident.latest_run,
        policy=policy,
        status=status,
        attempt_number=number,
        scheduled_for=timezone.now() + timedelta(minutes=minutes),
    )
    return incident, attempt


def test_clock_text_minutes_and_hours():
    assert [clock_text(timedelta(seconds=s)) for s in (0, 42, 605, 3729)] == ["0:00", "0:42", "10:05", "1:02:09"]


def test_retry_badge_scheduled_ahead_counts_down_else_retrying():
    _, attempt = with_attempt()
    now = attempt.scheduled_for - timedelta(seconds=42)

    badge = retry_badge(attempt, now=now)
    late = retry_badge(attempt, now=attempt.scheduled_for + timedelta(seconds=1))

    assert badge is not None and (badge.label, badge.text, badge.at) == (
        "retry 2/3",
        "retry 2/3 in 0:42",
        attempt.scheduled_for,
    )
    assert late is not None and (late.text, late.at) == ("retrying…", None)


def test_retry_badge_by_hand_has_no_maximum_and_finished_has_none():
    _, attempt = with_attempt(status=RetryAttempt.Status.RUNNING)
    attempt.trigger = RetryAttempt.Trigger.MANUAL

    assert retry_badge(attempt).label == "retry 2"
    attempt.status = RetryAttempt.Status.FAILED
    assert retry_badge(attempt) is None


def test_incident_pending_attempts_one_query_for_a_page():
    pairs = [with_attempt() for _ in range(3)]
    finished, _ = with_attempt(status=RetryAttempt.Status.SUCCEEDED)
    ids = [incident.pk for incident, _ in pairs] + [finished.pk]

    with CaptureQueriesContext(connection) as queries:
        pending = incident_pending_attempts(incident_ids=ids)
        policies = [attempt.policy.max_attempts for attempt in pending.values()]

    assert len(queries) == 1
    assert pending == {incident.pk: attempt for incident, attempt in pairs} and policies == [3, 3, 3]


def incident_list_queries(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        page = incident_list_page(params={}, user=user)
        for incident in page["incidents"]:
            _ = incident.retry_badge
    return len(queries)


def test_incident_list_badges_constant_queries(responder):
    with_attempt()
    incident_list_queries(responder)  # the user's permissions are cached by the first
    one = incident_list_queries(responder)
    for _ in range(4):
        with_attempt()

    assert incident_list_queries(responder) == one


def test_incident_list_page_shows_badges(viewer_client):
    due, _ = with_attempt()
    running, _ = with_attempt(status=RetryAttempt.Status.RUNNING, number=1)
    make_failed_incident()

    html = viewer_client.get("/incidents/").content.decode()

    assert html.count('data-testid="retry-badge"') == 2
    assert 'data-retry-label="retry 2/3"' in html and ">retry 2/3 in " in html
    assert ">retrying…</span>" in html


def test_dashboard_shows_badge(viewer_client):
    with_attempt()

    html = viewer_client.get("/").content.decode()

    assert 'data-testid="retry-badge"' in html and 'data-retry-label="retry 2/3"' in html


def test_pipeline_page_shows_badge_on_the_run(viewer_client):
    incident, attempt = with_attempt()

    html = viewer_client.get(f"/pipelines/{incident.pipeline_id}/").content.decode()

    row = html[html.index(f'id="run-{attempt.run_id}"') :]
    assert 'data-testid="retry-badge"' in row[: row.index("</tr>")]


def test_runs_page_shows_badge_on_the_run(viewer_client):
    _, attempt = with_attempt()

    html = viewer_client.get("/runs/").content.decode()

    row = html[html.index(f'id="run-{attempt.run_id}"') :]
    assert 'data-testid="retry-badge"' in row[: row.index("</tr>")]


def test_runs_page_badges_constant_queries(viewer_client):
    with_attempt()
    viewer_client.get("/runs/")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            viewer_client.get("/runs/")
        return len(queries)

    one = count()
    for _ in range(4):
        with_attempt()
    assert count() == one
