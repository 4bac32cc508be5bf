"""Escalation to the on-call: a step targeting a schedule reaches whoever is on call when it fires, through their
own contact methods (an e-mail to them, a mention in Slack and Teams), records the person on each notification, and
says so on the timeline when nobody is on call (the step's channels still fire)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from incidents.models import EscalationStep, Incident, Notification, NotificationChannel, NotificationRoute
from incidents.services import failure_triage, notifications_tick
from incidents.timeline import event_text
from tests.monitors.factories import make_pipeline, make_run
from tests.oncall.factories import make_contact, make_schedule

ERROR = "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`sales`.`orders` cannot be found."


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
    channel.save()
    return channel


def _escalating_route(receiver, schedule):
    slack = _channel("slack", "ops slack", f"{receiver.url}/slack")
    team_mail = _channel("email", "ops mail", recipients="ops@example.com")
    route = NotificationRoute.objects.create(name="all")
    route.channels.add(slack)
    step = EscalationStep.objects.create(route=route, after_minutes=15, oncall_schedule=schedule)
    step.channels.add(team_mail)
    return step


def _open(capture) -> Incident:
    with capture(execute=True):
        run = make_run(pipeline=make_pipeline(), error_message=ERROR)
        return failure_triage(run_id=run.pk)


@pytest.mark.django_db
def test_escalation_reaches_the_person_on_call_by_email_and_slack_mention(
    receiver, django_capture_on_commit_callbacks, make_user
):
    from aimsweb.roles import Role

    alice, bob = make_user("alice", Role.RESPONDER), make_user("bob", Role.RESPONDER)
    make_contact(alice, email="alice@example.com", slack_member_id="U0ALICE1")
    make_contact(bob, email="bob@example.com", slack_member_id="U0BOB123")
    step = _escalating_route(receiver, make_schedule(alice, bob))
    incident = _open(django_capture_on_commit_callbacks)
    paged_at = Incident.objects.get(pk=incident.pk).paged_at
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        notifications_tick(now=paged_at + timedelta(minutes=16))
    with django_capture_on_commit_callbacks(execute=True):
        notifications_tick(now=paged_at + timedelta(minutes=30))  # once only

    personal = Notification.objects.filter(recipient=alice).order_by("channel__kind")
    assert [(n.channel.kind, n.recipient_address, n.status) for n in personal] == [
        ("email", "alice@example.com", "sent"),
        ("slack", "U0ALICE1", "sent"),
    ]
    assert not Notification.objects.filter(recipient=bob).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "ops@example.com"]
    to_alice = next(m for m in mail.outbox if m.to == ["alice@example.com"])
    assert "alice, you are on call" in to_alice.body
    assert f"/incidents/{incident.pk}/ack/" in to_alice.body
    slack_bodies = [r.json() for r in receiver.requests if r.path == "/slack"]
    mention = [b for b in slack_bodies if b["text"].startswith("<@U0ALICE1>")]
    assert len(mention) == 1
    assert any(
        e.get("action_id") == "acknowledge_incident" for b in mention[0]["blocks"] for e in b.get("elements", [])
    )
    escalated = incident.events.get(kind="escalated")
    assert escalated.params["on_call"] == "alice" and escalated.params["schedule"] == "Primary"
    assert step.pk == escalated.params["step_id"]
    words = [event_text(kind=e.kind, params=e.params, note=e.note, at=e.created_at) for e in incident.events.all()]
    assert any("Notified alice (on call) through ops mail" in w for w in words)


@pytest.mark.django_db
def test_escalation_with_nobody_on_call_says_so_and_still_notifies_the_channels(
    receiver, django_capture_on_commit_callbacks
):
    _escalating_route(receiver, make_schedule())  # no rotation: nobody on call
    incident = _open(django_capture_on_commit_callbacks)
    paged_at = Incident.objects.get(pk=incident.pk).paged_at
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        notifications_tick(now=paged_at + timedelta(minutes=16))

    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert not Notification.objects.filter(recipient__isnull=False).exists()
    escalated = incident.events.get(kind="escalated")
    text = event_text(kind=escalated.kind, params=escalated.params, note="", at=timezone.now())
    assert "nobody is on call in Primary" in text


@pytest.mark.django_db
def test_escalation_uses_the_account_email_without_contact_methods(
    receiver, django_capture_on_commit_callbacks, make_user
):
    from aimsweb.roles import Role

    carol = make_user("carol", Role.RESPONDER)
    carol.email = "carol@example.com"
    carol.save()
    _escalating_route(receiver, make_schedule(carol))
    incident = _open(django_capture_on_commit_callbacks)
    paged_at = Incident.objects.get(pk=incident.pk).paged_at
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        notifications_tick(now=paged_at + timedelta(minutes=16))

    assert sorted(m.to[0] for m in mail.outbox) == ["carol@example.com", "ops@example.com"]
    assert Notification.objects.get(recipient=carol).channel.kind == "email"  # no Slack id: no mention
