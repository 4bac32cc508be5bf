"""The incident page through HTTP as each role sees it: the failure analysis, runs and timeline, the actions each
role is offered, escaping, the htmx partial and a fixed number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, Notification, NotificationChannel, TicketLink
from monitors.models import PipelineRun
from remediation.models import RetryAttempt
from tests.incidents.factories import make_analysis
from tests.incidents.incident_page_helpers import ACTIONS, make_failed_incident, url
from tests.monitors.factories import make_retry_attempt, make_run


def add_run(incident: Incident, **fields) -> PipelineRun:
    """Another failed run counted in the incident."""
    run = make_run(incident.pipeline, **fields)
    make_analysis(run, incident=incident)
    return run


# --- The page -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["viewer_client", "responder_client", "admin_client_"])
def test_incident_detail_any_role_shows_failure_analysis_and_timeline(request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    incident = make_failed_incident(title="nightly_load: source timed out")

    response = client.get(url(incident))

    html = response.content.decode()
    assert response.status_code == 200
    assert "nightly_load: source timed out" in html
    assert "The nightly source database timed out." in html
    assert "The source server was restarted during the copy." in html
    assert "<li>Rerun from the failed activity</li>" in html
    assert "gpt-test-mini" in html and "3 of 4 retries of this signature succeeded." in html
    assert "Copy sales failed: source timed out" in html
    assert "<summary>Trace</summary>" in html and "in connect" in html
    assert 'id="incident-timeline"' in html and "Opened by nightly run" in html


@pytest.mark.django_db
def test_incident_detail_runs_table_shows_error_first_line(viewer_client):
    incident = make_failed_incident()

    html = viewer_client.get(url(incident)).content.decode()

    row = html[html.index(f'id="run-{incident.latest_run_id}"') :]
    row = row[: row.index("</tr>")]
    assert "Copy sales failed: source timed out" in row
    assert "ODBC driver line 2" not in row


@pytest.mark.django_db
def test_incident_detail_viewer_sees_no_action_forms(viewer_client):
    incident = make_failed_incident()

    html = viewer_client.get(url(incident)).content.decode()

    for action in ACTIONS:
        assert f'action="{url(incident, action)}"' not in html
    assert "/retry/" not in html and "Retry now" not in html


@pytest.mark.django_db
def test_incident_detail_responder_sees_action_forms(responder_client):
    incident = make_failed_incident()

    html = responder_client.get(url(incident)).content.decode()

    for action in ["acknowledge", "resolve", "assign", "comment", "silence", "ticket"]:
        assert f'action="{url(incident, action)}"' in html
        assert f'hx-post="{url(incident, action)}"' in html
    assert f'action="{url(incident, f"runs/{incident.latest_run_id}/retry")}"' in html
    # Transitions that make no sense on a triggered incident are not offered.
    assert f'action="{url(incident, "reopen")}"' not in html
    assert f'action="{url(incident, "unsilence")}"' not in html


@pytest.mark.django_db
def test_incident_detail_resolved_offers_reopen_not_acknowledge(responder_client):
    incident = make_failed_incident(status=Incident.Status.RESOLVED, resolved_at=timezone.now())

    html = responder_client.get(url(incident)).content.decode()

    assert f'action="{url(incident, "reopen")}"' in html
    assert f'action="{url(incident, "acknowledge")}"' not in html
    assert f'action="{url(incident, "resolve")}"' not in html
    assert f'action="{url(incident, "silence")}"' not in html


@pytest.mark.django_db
def test_incident_detail_missing_incident_404(viewer_client):
    assert viewer_client.get("/incidents/999999/").status_code == 404


@pytest.mark.django_db
def test_incident_detail_anonymous_redirected_to_login(client):
    incident = make_failed_incident()

    response = client.get(url(incident))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_incident_action_anonymous_redirected_to_login_and_unchanged(client):
    incident = make_failed_incident()

    response = client.post(url(incident, "acknowledge"))

    assert response.status_code == 302 and response["Location"].startswith("/login/")
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_incident_detail_htmx_request_gets_main_partial(viewer_client):
    incident = make_failed_incident(title="partial incident")

    html = viewer_client.get(url(incident), headers={"HX-Request": "true"}).content.decode()

    assert html.lstrip().startswith('<div id="incident-main">')
    assert "partial incident" in html and "<html" not in html


@pytest.mark.django_db
def test_incident_detail_user_text_escaped(responder_client):
    incident = make_failed_incident(title="<script>alert('title')</script>")
    PipelineRun.objects.filter(pk=incident.latest_run_id).update(
        error_message="<script>alert('error')</script>", error_trace="<script>alert('trace')</script>"
    )
    IncidentEvent.objects.create(incident=incident, kind=IncidentEvent.Kind.COMMENTED, note="<script>x</script>")
    make_retry_attempt(incident.latest_run, status=RetryAttempt.Status.ERROR, error_message="<script>y</script>")
    channel = NotificationChannel.objects.create(name="oncall", kind=NotificationChannel.Kind.WEBHOOK)
    Notification.objects.create(
        channel=channel,
        incident=incident,
        event="opened",
        dedup_key="n-1",
        status=Notification.Status.FAILED,
        last_error="<script>z</script>",
    )

    html = responder_client.get(url(incident)).content.decode()

    assert "<script>" not in html.split("<body", 1)[1]
    assert "&lt;script&gt;alert(&#x27;error&#x27;)&lt;/script&gt;" in html
    assert "&lt;script&gt;y&lt;/script&gt;" in html and "&lt;script&gt;z&lt;/script&gt;" in html


def _queries_for_page(client, incident: Incident) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(incident))
    assert response.status_code == 200
    return len(queries)


def _fill(incident: Incident, n: int, channel: NotificationChannel, user) -> None:
    for i in range(n):
        run = add_run(incident)
        make_retry_attempt(run, status=RetryAttempt.Status.FAILED, requested_by=user, trigger="manual")
        IncidentEvent.objects.create(
            incident=incident, kind=IncidentEvent.Kind.COMMENTED, actor_user=user, note=f"comment {i}"
        )
        TicketLink.objects.create(incident=incident, system="Jira", key=f"OPS-{incident.pk}-{i}", created_by=user)
        Notification.objects.create(channel=channel, incident=incident, event="opened", dedup_key=f"{incident.pk}-{i}")


@pytest.mark.django_db
def test_incident_detail_query_count_constant(responder_client, responder):
    channel = NotificationChannel.objects.create(name="oncall", kind=NotificationChannel.Kind.WEBHOOK)
    small, large = make_failed_incident(assignee=responder), make_failed_incident(assignee=responder)
    _fill(small, 1, channel, responder)
    _fill(large, 20, channel, responder)
    _queries_for_page(responder_client, small)  # warm up per-process caches

    with_one = _queries_for_page(responder_client, small)

    assert _queries_for_page(responder_client, large) == with_one
    assert large.events.count() == 21 and large.analyses.count() == 21


@pytest.mark.django_db
def test_incident_detail_long_timeline_shows_latest_entries_only(viewer_client):
    incident = make_failed_incident()
    IncidentEvent.objects.bulk_create(
        IncidentEvent(incident=incident, kind=IncidentEvent.Kind.OCCURRED, params={"subject_label": "x", "count": i})
        for i in range(205)
    )

    html = viewer_client.get(url(incident)).content.decode()

    assert "(occurrence 204)" in html and "Only the latest 200 entries are shown." in html
    assert "nightly run" not in html and "(occurrence 4)" not in html
