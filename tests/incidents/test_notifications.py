"""Notifications: delivered to local receivers, retried with backoff and logged, once per state change, rate-limited
with a digest, escalated when nobody acknowledges, and told of the resolution."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents.models import EscalationStep, Incident, Notification, NotificationChannel, NotificationRoute
from incidents.notify.webhook import signature_verify
from incidents.services import (
    SYSTEM,
    Actor,
    failure_triage,
    incident_acknowledge,
    incident_resolve,
    notification_send,
    notifications_tick,
)
from tests.incidents.receivers import Reply
from tests.monitors.factories import make_pipeline, make_run

MISSING_TABLE = "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`sales`.`orders_{n}` cannot be found."
SECRET = "w" * 32


@pytest.fixture(autouse=True)
def offline(settings):
    settings.AIMS_LLM_MODEL = ""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.AIMS_NOTIFY_TIMEOUT_SECONDS = 2
    settings.AIMS_NOTIFY_MAX_ATTEMPTS = 3


def _channel(kind: str, name: str, url: str = "", **fields) -> NotificationChannel:
    channel = NotificationChannel(name=name, kind=kind, **fields)
    if url:
        channel.set_url(url)
    if kind == "webhook":
        channel.set_signing_secret(SECRET)
    channel.save()
    return channel


def _route(*channels, **fields) -> NotificationRoute:
    route = NotificationRoute.objects.create(name=f"route-{NotificationRoute.objects.count()}", **fields)
    route.channels.add(*channels)
    return route


def _open(capture, n: int = 1, pipeline=None) -> Incident:
    with capture(execute=True):
        run = make_run(pipeline=pipeline or make_pipeline(), error_message=MISSING_TABLE.format(n=n))
        return failure_triage(run_id=run.pk)


@pytest.mark.django_db
def test_open_pages_every_channel_kind_with_the_analysis_and_a_link(receiver, django_capture_on_commit_callbacks):
    teams = _channel("teams", "teams", f"{receiver.url}/workflows/teams-token")
    slack = _channel("slack", "slack", f"{receiver.url}/services/T000/B000/slack-token")
    hook = _channel("webhook", "hook", f"{receiver.url}/aims-hook")
    mail_channel = _channel("email", "mail", recipients="oncall@example.org, lead@example.org")
    _route(teams, slack, hook, mail_channel)

    incident = _open(django_capture_on_commit_callbacks)

    by_path = {request.path: request for request in receiver.requests}
    assert set(by_path) == {"/workflows/teams-token", "/services/T000/B000/slack-token", "/aims-hook"}
    card = by_path["/workflows/teams-token"].json()["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["actions"][0]["url"].endswith(f"/incidents/{incident.pk}/")
    slack_body = by_path["/services/T000/B000/slack-token"].json()
    assert any(block["type"] == "header" for block in slack_body["blocks"])
    hook_request = by_path["/aims-hook"]
    payload = hook_request.json()
    assert payload["incident"]["id"] == incident.pk and payload["event"] == "opened"
    assert payload["analysis"]["summary"] == incident.analysis.summary
    assert "TABLE_OR_VIEW_NOT_FOUND" in payload["error"]
    assert signature_verify(
        SECRET, hook_request.headers["x-aims-timestamp"], hook_request.body, hook_request.headers["x-aims-signature"]
    )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["oncall@example.org", "lead@example.org"]
    assert Notification.objects.filter(status="sent").count() == 4
    assert incident.events.filter(kind="notified").count() == 4
    incident.refresh_from_db()
    assert incident.paged_at is not None


@pytest.mark.django_db
def test_failing_receiver_is_retried_with_backoff_then_logged_sent(receiver, django_capture_on_commit_callbacks):
    receiver.reply_with(Reply(status=500, body=b"boom"), Reply(status=503, body=b"busy"))
    hook = _channel("webhook", "hook", f"{receiver.url}/hook")
    _route(hook)
    incident = _open(django_capture_on_commit_callbacks)
    notification = Notification.objects.get()
    assert notification.status == "retrying" and notification.attempts == 1 and notification.last_status_code == 500

    notifications_tick(now=timezone.now())  # not due yet
    assert len(receiver.requests) == 1
    notifications_tick(now=notification.next_attempt_at + timedelta(seconds=1))
    notification.refresh_from_db()
    assert notification.status == "retrying" and notification.attempts == 2 and notification.last_status_code == 503
    notifications_tick(now=notification.next_attempt_at + timedelta(seconds=1))
    notification.refresh_from_db()

    assert notification.status == "sent" and notification.attempts == 3 and len(receiver.requests) == 3
    assert {r.headers["x-aims-delivery"] for r in receiver.requests} == {str(notification.pk)}
    assert incident.events.filter(kind="notified").count() == 1


@pytest.mark.django_db
def test_receiver_that_keeps_failing_is_given_up_and_the_timeline_says_so(receiver, django_capture_on_commit_callbacks):
    receiver.reply_with(*[Reply(status=500)] * 5)
    _route(_channel("slack", "slack", f"{receiver.url}/s"))
    incident = _open(django_capture_on_commit_callbacks)
    notification = Notification.objects.get()
    for _ in range(4):
        notifications_tick(now=(notification.next_attempt_at or timezone.now()) + timedelta(seconds=1))
        notification.refresh_from_db()

    assert notification.status == "failed" and notification.attempts == 3
    assert len(receiver.requests) == 3
    failed = incident.events.get(kind="notify_failed")
    assert "after 3 attempt(s)" in failed.text and "/s" not in failed.text.split(":", 1)[0]


@pytest.mark.django_db
def test_rate_limit_holds_back_then_sends_one_digest(receiver, django_capture_on_commit_callbacks):
    hook = _channel("webhook", "hook", f"{receiver.url}/hook", rate_limit_count=2, rate_limit_minutes=10)
    _route(hook)
    incidents = [_open(django_capture_on_commit_callbacks, n=n) for n in range(5)]
    assert len(incidents) == 5
    assert sorted(Notification.objects.values_list("status", flat=True)) == ["held", "held", "held", "sent", "sent"]

    notifications_tick(now=timezone.now())  # window still full
    assert len(receiver.requests) == 2
    notifications_tick(now=timezone.now() + timedelta(minutes=11))

    digest = Notification.objects.get(event="digest")
    assert digest.status == "sent" and digest.held_items.count() == 3
    assert Notification.objects.filter(status="digested").count() == 3
    body = receiver.requests[-1].json()
    assert body["event"] == "digest" and len(body["digest"]) == 3
    notifications_tick(now=timezone.now() + timedelta(minutes=12))
    assert Notification.objects.filter(event="digest").count() == 1 and len(receiver.requests) == 3


@pytest.mark.django_db
def test_escalation_fires_after_the_wait_when_unacknowledged(receiver, django_capture_on_commit_callbacks):
    first = _channel("webhook", "first line", f"{receiver.url}/first")
    lead = _channel("webhook", "team lead", f"{receiver.url}/lead")
    route = _route(first)
    step = EscalationStep.objects.create(route=route, after_minutes=15)
    step.channels.add(lead)
    incident = _open(django_capture_on_commit_callbacks)
    paged_at = Incident.objects.get(pk=incident.pk).paged_at

    notifications_tick(now=paged_at + timedelta(minutes=14))
    assert [r.path for r in receiver.requests] == ["/first"]
    notifications_tick(now=paged_at + timedelta(minutes=16))
    notifications_tick(now=paged_at + timedelta(minutes=30))

    assert [r.path for r in receiver.requests] == ["/first", "/lead"]
    assert receiver.requests[1].json()["event"] == "escalated"
    assert [e.params["after_minutes"] for e in incident.events.filter(kind="escalated")] == [15]


@pytest.mark.django_db
def test_escalation_does_not_fire_after_acknowledgement(receiver, django_capture_on_commit_callbacks, responder):
    route = _route(_channel("webhook", "first line", f"{receiver.url}/first"))
    step = EscalationStep.objects.create(route=route, after_minutes=15)
    step.channels.add(_channel("webhook", "team lead", f"{receiver.url}/lead"))
    incident = _open(django_capture_on_commit_callbacks)

    incident_acknowledge(incident_id=incident.pk, actor=Actor.of_user(responder))
    notifications_tick(now=timezone.now() + timedelta(hours=2))

    assert [r.path for r in receiver.requests] == ["/first"]
    assert not Notification.objects.filter(event="escalated").exists()


@pytest.mark.django_db
def test_resolve_tells_only_the_channels_that_were_paged_once(receiver, django_capture_on_commit_callbacks):
    paged = _channel("webhook", "paged", f"{receiver.url}/paged")
    _route(paged)
    _route(_channel("webhook", "resolve only", f"{receiver.url}/never"), notify_on_open=False)
    incident = _open(django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        incident_resolve(incident_id=incident.pk, actor=SYSTEM)
        incident_resolve(incident_id=incident.pk, actor=SYSTEM)

    assert [(r.path, r.json()["event"]) for r in receiver.requests] == [("/paged", "opened"), ("/paged", "resolved")]


@pytest.mark.django_db
def test_send_twice_delivers_once(receiver, django_capture_on_commit_callbacks):
    _route(_channel("webhook", "hook", f"{receiver.url}/hook"))
    _open(django_capture_on_commit_callbacks)
    notification = Notification.objects.get()

    assert notification_send(notification_id=notification.pk) == "sent"
    assert len(receiver.requests) == 1
