"""The incident page and its actions, through HTTP as each role sees them."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aimsweb.roles import Role
from incidents.models import FailureAnalysis, Incident, IncidentEvent, Notification, NotificationChannel, TicketLink
from monitors.models import PipelineRun
from remediation.models import RetryAttempt
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_retry_attempt, make_run
from tests.monitors.fakes import FakeSourceClient

ACTIONS = ["acknowledge", "resolve", "reopen", "assign", "comment", "silence", "unsilence", "ticket"]


def make_failed_incident(**fields) -> Incident:
    """An incident opened by one failed run, with its analysis counted in it (as triage leaves them)."""
    run = make_run(
        error_message="Copy sales failed: source timed out\nat ODBC driver line 2",
        error_trace="Traceback (most recent call last):\n  File odbc.py, line 42, in connect",
    )
    analysis = make_analysis(
        run,
        analyzer=FailureAnalysis.Analyzer.LLM,
        model="gpt-test-mini",
        summary="The nightly source database timed out.",
        root_cause="The source server was restarted during the copy.",
        recommended_actions=["Check the source server's restart schedule", "Rerun from the failed activity"],
        learned="3 of 4 retries of this signature succeeded.",
        fallback_reason="",
        cache_hit=True,
    )
    incident = make_incident(run, analysis=analysis, **fields)
    FailureAnalysis.objects.filter(pk=analysis.pk).update(incident=incident)
    return incident


def add_run(incident: Incident, **fields) -> PipelineRun:
    """Another failed run counted in the incident."""
    run = make_run(incident.pipeline, **fields)
    make_analysis(run, incident=incident)
    return run


def url(incident: Incident, action: str = "") -> str:
    return f"/incidents/{incident.pk}/" + (f"{action}/" if action else "")


def post_data(action: str, *, assignee=None) -> dict:
    return {
        "resolve": {"note": "fixed by hand"},
        "assign": {"assignee": assignee.pk if assignee else ""},
        "comment": {"text": "looking into it"},
        "silence": {"duration": "1", "reason": "known outage"},
        "ticket": {"system": "Jira", "key": "OPS-1", "url": "https://jira.example.com/browse/OPS-1"},
    }.get(action, {})


def events(incident: Incident) -> list[str]:
    return list(incident.events.order_by("created_at", "id").values_list("kind", flat=True))


@pytest.fixture
def fake_client(settings):
    settings.MONITOR_CLIENTS = {
        "adf": "tests.monitors.fakes.FakeSourceClient",
        "databricks": "tests.monitors.fakes.FakeSourceClient",
    }
    FakeSourceClient.calls = []
    FakeSourceClient.runs = []
    return FakeSourceClient


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
        channel=channel, incident=incident, event="opened", dedup_key="n-1", last_error="<script>z</script>"
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


# --- Permissions --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("action", [*ACTIONS, "retry"])
def test_incident_action_viewer_forged_post_forbidden_and_unchanged(viewer_client, responder, action):
    incident = make_failed_incident(status=Incident.Status.SILENCED, silenced_until=timezone.now() + timedelta(hours=1))
    path = url(incident, f"runs/{incident.latest_run_id}/retry" if action == "retry" else action)
    data = {**post_data(action, assignee=responder), "request_key": "k" * 32}
    before = events(incident)

    response = viewer_client.post(path, data)

    assert response.status_code == 403
    incident.refresh_from_db()
    assert incident.status == Incident.Status.SILENCED and incident.assignee is None
    assert events(incident) == before
    assert not TicketLink.objects.exists() and not RetryAttempt.objects.exists()


@pytest.mark.django_db
def test_incident_action_get_not_allowed(responder_client):
    incident = make_failed_incident()

    assert responder_client.get(url(incident, "acknowledge")).status_code == 405
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


# --- Actions ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_acknowledge_responder_acknowledges_with_event(responder_client, responder):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "acknowledge"))

    assert response.status_code == 303 and response["Location"] == url(incident)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.ACKNOWLEDGED
    event = incident.events.get(kind=IncidentEvent.Kind.ACKNOWLEDGED)
    assert event.actor_user == responder


@pytest.mark.django_db
def test_incident_acknowledge_resolved_incident_400_explains(responder_client):
    incident = make_failed_incident(status=Incident.Status.RESOLVED, resolved_at=timezone.now())

    response = responder_client.post(url(incident, "acknowledge"))

    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="incident-problems"' in html and "reopen it first" in html
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED


@pytest.mark.django_db
def test_incident_resolve_with_note_resolves_and_records_note(responder_client, responder):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "resolve"), {"note": "restarted the gateway"})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == Incident.Status.RESOLVED
    event = incident.events.get(kind=IncidentEvent.Kind.RESOLVED)
    assert (
        event.text == "Resolved: restarted the gateway"
        and event.note == "restarted the gateway"
        and event.actor_user == responder
    )


@pytest.mark.django_db
def test_incident_reopen_resolved_incident_triggers_new_generation(responder_client):
    incident = make_failed_incident(status=Incident.Status.RESOLVED, resolved_at=timezone.now())

    response = responder_client.post(url(incident, "reopen"))

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED and incident.generation == 2
    assert events(incident)[-1] == IncidentEvent.Kind.REOPENED


@pytest.mark.django_db
def test_incident_reopen_open_incident_400(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "reopen"))

    assert response.status_code == 400
    assert "Only a resolved incident can be reopened." in response.content.decode()
    assert events(incident) == [IncidentEvent.Kind.OPENED]


@pytest.mark.django_db
def test_incident_assign_to_responder_sets_assignee(responder_client, make_user):
    colleague = make_user("casey", Role.RESPONDER)
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "assign"), {"assignee": colleague.pk})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.assignee == colleague
    assert incident.events.get(kind=IncidentEvent.Kind.ASSIGNED).text == "Assigned to casey."


@pytest.mark.django_db
def test_incident_assign_form_offers_only_responders_and_admins(responder_client, viewer, admin_user):
    incident = make_failed_incident()

    html = responder_client.get(url(incident)).content.decode()

    form = html[html.index(f'action="{url(incident, "assign")}"') :]
    form = form[: form.index("</form>")]
    assert f'value="{admin_user.pk}"' in form and ">rory<" in form
    assert f'value="{viewer.pk}"' not in form


@pytest.mark.django_db
def test_incident_assign_to_viewer_400_names_field(responder_client, viewer):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "assign"), {"assignee": viewer.pk})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Assignee: Choose someone with the Responder or Admin role." in html
    assert 'aria-invalid="true"' in html
    incident.refresh_from_db()
    assert incident.assignee is None


@pytest.mark.django_db
def test_incident_assign_empty_unassigns(responder_client, responder):
    incident = make_failed_incident(assignee=responder)

    response = responder_client.post(url(incident, "assign"), {"assignee": ""})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.assignee is None


@pytest.mark.django_db
def test_incident_comment_adds_event_by_responder(responder_client, responder):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "comment"), {"text": "  gateway restarted  "})

    assert response.status_code == 303
    event = incident.events.get(kind=IncidentEvent.Kind.COMMENTED)
    assert event.note == event.text == "gateway restarted" and event.actor_user == responder


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "Comment: Write a comment."), ("x" * 5001, "Comment: Ensure this value has at most 5000 characters")],
)
def test_incident_comment_bad_text_400_names_field(responder_client, text, message):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "comment"), {"text": text})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not incident.events.filter(kind=IncidentEvent.Kind.COMMENTED).exists()


@pytest.mark.django_db
def test_incident_silence_one_hour_then_unsilence(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "silence"), {"duration": "1", "reason": "known outage"})

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == Incident.Status.SILENCED
    ahead = incident.silenced_until - timezone.now()
    assert timedelta(minutes=59) < ahead <= timedelta(hours=1)
    assert incident.events.get(kind=IncidentEvent.Kind.SILENCED).text.endswith(": known outage")

    response = responder_client.post(url(incident, "unsilence"))

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED and incident.silenced_until is None
    assert events(incident)[-1] == IncidentEvent.Kind.UNSILENCED


@pytest.mark.django_db
def test_incident_silence_custom_until_sets_that_time(responder_client):
    incident = make_failed_incident()
    until = timezone.localtime(timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)

    response = responder_client.post(
        url(incident, "silence"), {"duration": "custom", "until": until.strftime("%Y-%m-%dT%H:%M")}
    )

    assert response.status_code == 303
    incident.refresh_from_db()
    assert incident.silenced_until == until


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"duration": "custom"}, "Until: Give the time the silence ends."),
        ({"duration": "custom", "until": "2001-01-01T00:00"}, "Until: Must be in the future."),
        ({"duration": "custom", "until": "2999-01-01T00:00"}, "Until: At most 30 days ahead."),
        ({"duration": "forever"}, "For: Select a valid choice."),
    ],
)
def test_incident_silence_bad_until_400_names_field(responder_client, data, message):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "silence"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.TRIGGERED


@pytest.mark.django_db
def test_incident_ticket_link_shows_link(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(
        url(incident, "ticket"), {"system": "Jira", "key": "OPS-7", "url": "https://jira.example.com/browse/OPS-7"}
    )

    assert response.status_code == 303
    ticket = TicketLink.objects.get(incident=incident)
    assert (ticket.system, ticket.key) == ("Jira", "OPS-7")
    html = responder_client.get(url(incident)).content.decode()
    assert '<a href="https://jira.example.com/browse/OPS-7"' in html and "Jira OPS-7</a>" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"system": "Jira", "key": "OPS-7", "url": "javascript:alert(1)"}, "Link: Give a full http(s) link"),
        ({"system": "Jira", "key": "OPS-7", "url": "ftp://files.example.com/x"}, "Link: Give a full http(s) link"),
        ({"system": "Jira", "key": ""}, "Key: This field is required."),
    ],
)
def test_incident_ticket_link_bad_input_400_names_field(responder_client, data, message):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "ticket"), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TicketLink.objects.exists()


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


# --- htmx ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_action_htmx_request_gets_main_partial(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "acknowledge"), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="incident-main">') and "<html" not in html
    assert 'data-testid="status">Acknowledged<' in html


@pytest.mark.django_db
def test_incident_action_htmx_bad_input_gets_400_partial_with_error(responder_client):
    incident = make_failed_incident()

    response = responder_client.post(url(incident, "comment"), {"text": ""}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 400
    assert html.lstrip().startswith('<div id="incident-main">') and "<html" not in html
    assert 'id="incident-problems"' in html and "Comment: Write a comment." in html
    assert response["HX-Reswap"] == "outerHTML show:#incident-problems:top"


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
