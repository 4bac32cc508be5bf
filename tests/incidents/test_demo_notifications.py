"""The demo's channels, routes and rate limits (aimsweb.demo) at the demo's pace, on a fake clock: within its first
ten minutes a watcher sees pages delivered, the overflow held for a digest and sent in one, and an escalation."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from aimsweb.demo import demo_notifications_ensure
from incidents.models import Incident, Notification
from incidents.services import SYSTEM, failure_triage, incident_resolve, notifications_tick
from tests.monitors.factories import make_pipeline, make_run

MISSING_TABLE = "[TABLE_OR_VIEW_NOT_FOUND] The table or view `main`.`sales`.`orders_{n}` cannot be found."
FAILURES_PER_MINUTE = 2  # new incidents a minute; the demo scenario pages about three times a minute, resolves included


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.at = start

    def now(self) -> datetime:
        return self.at


@pytest.fixture(autouse=True)
def offline(settings):
    settings.AIMS_LLM_MODEL = ""
    settings.AIMS_NOTIFY_TIMEOUT_SECONDS = 2


@pytest.mark.django_db
def test_demo_shows_delivered_digested_and_escalated_pages_within_ten_minutes(
    receiver, monkeypatch, django_capture_on_commit_callbacks
):
    clock = FakeClock(timezone.now())
    started = clock.at
    monkeypatch.setattr(timezone, "now", clock.now)
    demo_notifications_ensure(simulator_url=receiver.url)
    opened: list[Incident] = []

    for minute in range(10):
        for _ in range(FAILURES_PER_MINUTE):
            with django_capture_on_commit_callbacks(execute=True):
                run = make_run(pipeline=make_pipeline(), error_message=MISSING_TABLE.format(n=len(opened)))
                opened.append(failure_triage(run_id=run.pk))
        if minute % 2 == 1:  # some recover (their next run succeeds) and are resolved
            with django_capture_on_commit_callbacks(execute=True):
                incident_resolve(incident_id=opened[-4].pk, actor=SYSTEM)
        clock.at += timedelta(seconds=60)
        with django_capture_on_commit_callbacks(execute=True):
            notifications_tick(now=clock.at)

    ten_minutes = started + timedelta(minutes=10)
    sent = Notification.objects.filter(status=Notification.Status.SENT, sent_at__lte=ten_minutes)
    teams_pages = sent.filter(channel__name="On-call Teams channel", event=Notification.Event.OPENED)
    digest = sent.filter(event=Notification.Event.DIGEST).first()
    escalated = sent.filter(event=Notification.Event.ESCALATED, channel__name="Team lead (Slack)")
    assert teams_pages.count() >= 4
    assert digest is not None and digest.held_items.count() >= 1
    assert escalated.exists()
    inbox_paths = {request.path for request in receiver.requests}
    assert {
        "/_sim/inbox/teams",
        "/_sim/inbox/slack",
        "/_sim/inbox/webhook",
        "/_sim/inbox/slack-team-lead",
    } <= inbox_paths
    # Not "nearly every row held back by the rate limit": most pages reach someone at once.
    pages = Notification.objects.filter(event=Notification.Event.OPENED)
    assert pages.filter(status=Notification.Status.SENT).count() > pages.count() / 2
