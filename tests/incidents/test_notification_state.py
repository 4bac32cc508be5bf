"""Notification state in words on every list of notifications: delivered, held for the digest (when, how many
waiting), sent in a digest (linked to it), failing with the retry time, suppressed; the digest waits read in a fixed
number of queries; the notifications pages for every role that reads incidents."""

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from django.urls import reverse

from incidents.models import IncidentEvent, Notification, NotificationChannel
from incidents.notification_words import notification_state, suppression_state
from incidents.selectors.notifications import digest_waits
from tests.incidents.factories import make_incident

T0 = datetime(2026, 12, 8, 0, 17, 0, tzinfo=UTC)
_keys = count()


@pytest.fixture(autouse=True)
def utc(settings):
    settings.TIME_ZONE = "UTC"


def _channel(name: str = "#ops-alerts", limit: int = 2, minutes: int = 10) -> NotificationChannel:
    return NotificationChannel.objects.create(
        name=name, kind="slack", rate_limit_count=limit, rate_limit_minutes=minutes
    )


def _notification(channel, *, at: datetime, incident=None, **fields) -> Notification:
    notification = Notification.objects.create(
        channel=channel,
        incident=incident if incident is not None else make_incident(),
        event=fields.pop("event", Notification.Event.OPENED),
        dedup_key=f"k{next(_keys)}",
        **fields,
    )
    Notification.objects.filter(pk=notification.pk).update(created_at=at)
    notification.refresh_from_db()
    return notification


def _held_channel(waiting: int = 3) -> tuple[NotificationChannel, list[Notification]]:
    """Two pages delivered at 00:17 and 00:21 (the limit: 2 per 10 min), then `waiting` held back from 00:22."""
    channel = _channel()
    _notification(channel, at=T0, status=Notification.Status.SENT, sent_at=T0)
    _notification(channel, at=T0 + timedelta(minutes=4), status=Notification.Status.SENT, sent_at=T0)
    held = [
        _notification(channel, at=T0 + timedelta(minutes=5 + n), status=Notification.Status.HELD)
        for n in range(waiting)
    ]
    return channel, held


@pytest.mark.django_db
def test_state_delivered_says_where_and_when_and_links_to_what_was_sent():
    sent = _notification(_channel(), at=T0, status=Notification.Status.SENT, sent_at=T0 + timedelta(minutes=4))

    state = notification_state(sent)

    assert state.text == "Delivered to #ops-alerts 00:21"
    assert state.url == reverse("incidents:notification", args=[sent.pk]) and state.tone == "ok"


@pytest.mark.django_db
def test_state_held_says_when_the_digest_is_due_and_how_many_wait():
    channel, held = _held_channel(waiting=14)

    waits = digest_waits(channel_ids={channel.pk}, now=T0 + timedelta(minutes=8))
    state = notification_state(held[0], wait=waits[channel.pk])

    # The window has room again when the delivery of 00:17 is ten minutes old: 00:27.
    assert waits[channel.pk].waiting == 14
    assert state.text == "Held for the digest at 00:27 (14 waiting)" and state.tone == "waiting"


@pytest.mark.django_db
def test_digest_wait_is_due_when_the_oldest_held_is_a_window_old_if_sooner():
    channel = _channel(limit=1, minutes=10)
    for n in range(3):  # a window kept full by escalations, say: room only at 00:40
        _notification(channel, at=T0 + timedelta(minutes=13 + 2 * n), status=Notification.Status.SENT)
    _notification(channel, at=T0 + timedelta(minutes=1), status=Notification.Status.HELD)

    wait = digest_waits(channel_ids={channel.pk}, now=T0 + timedelta(minutes=18))[channel.pk]

    assert wait.due_at == T0 + timedelta(minutes=11) and wait.waiting == 1


@pytest.mark.django_db
def test_state_digested_links_to_the_digest_it_was_sent_in():
    channel = _channel()
    digest = Notification.objects.create(
        channel=channel,
        event=Notification.Event.DIGEST,
        dedup_key="digest",
        status=Notification.Status.SENT,
        sent_at=T0 + timedelta(minutes=10),
    )
    item = _notification(channel, at=T0, status=Notification.Status.DIGESTED, digest=digest)

    state = notification_state(item)

    assert state.text == "Sent in the digest of 00:27"
    assert state.url == reverse("incidents:notification", args=[digest.pk])
    assert notification_state(digest).text == "Digest delivered to #ops-alerts 00:27"


@pytest.mark.django_db
def test_state_failed_says_the_answer_and_when_it_is_tried_again():
    channel = _channel()
    retrying = _notification(
        channel,
        at=T0,
        status=Notification.Status.RETRYING,
        attempts=1,
        last_status_code=503,
        next_attempt_at=T0 + timedelta(minutes=7),
    )
    gave_up = _notification(
        channel, at=T0, status=Notification.Status.FAILED, attempts=5, last_error="ConnectTimeout sending to x"
    )

    assert notification_state(retrying).text == "Failed: HTTP 503 — retrying at 00:24"
    assert notification_state(gave_up).text == "Failed: ConnectTimeout sending to x — gave up after 5 attempts"


@pytest.mark.django_db
def test_state_suppressed_names_the_maintenance_window():
    incident = make_incident()
    event = IncidentEvent.objects.create(
        incident=incident,
        kind=IncidentEvent.Kind.SUPPRESSED,
        params={"reason": "maintenance", "window": "Nightly patching", "until": "2026-12-08T02:00:00+00:00"},
    )

    state = suppression_state(event)

    assert state.text == "Suppressed: maintenance window Nightly patching (until 02:00)" and state.url == ""


@pytest.mark.django_db
def test_incident_page_rows_say_what_happened_with_digest_waits_in_fixed_queries(
    viewer_client, django_assert_max_num_queries
):
    channel, held = _held_channel(waiting=1)
    incident = held[0].incident
    IncidentEvent.objects.create(
        incident=incident,
        kind=IncidentEvent.Kind.SUPPRESSED,
        params={"reason": "maintenance", "window": "Nightly patching", "until": "2026-12-08T02:00:00+00:00"},
    )
    url = reverse("incidents:detail", args=[incident.pk])
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        page = viewer_client.get(url)
    other = _channel("Teams", limit=1)
    for n in range(6):  # more held notifications on more channels: the same number of queries
        _notification(other, at=T0 + timedelta(minutes=n), incident=incident, status=Notification.Status.HELD)
        _notification(channel, at=T0 + timedelta(minutes=n), incident=incident, status=Notification.Status.HELD)
    with django_assert_max_num_queries(len(few.captured_queries)):
        again = viewer_client.get(url)

    text = page.content.decode()
    assert page.status_code == 200
    assert "Held for the digest at" in text and "(1 waiting)" in text
    assert "Suppressed: maintenance window Nightly patching" in text
    assert again.content.decode().count("(7 waiting)") == 7 and "(6 waiting)" in again.content.decode()


@pytest.mark.django_db
def test_notification_pages_list_states_and_open_a_digest_with_its_items(viewer_client):
    channel = _channel()
    digest = Notification.objects.create(
        channel=channel, event=Notification.Event.DIGEST, dedup_key="digest", headline="2 more notification(s)"
    )
    items = [_notification(channel, at=T0, status=Notification.Status.DIGESTED, digest=digest) for _ in range(2)]
    Notification.objects.filter(pk=digest.pk).update(status=Notification.Status.SENT, sent_at=T0)

    listing = viewer_client.get(reverse("incidents:notifications"))
    opened = viewer_client.get(reverse("incidents:notification", args=[digest.pk]))

    digest_url = reverse("incidents:notification", args=[digest.pk])
    assert listing.status_code == 200
    assert listing.content.decode().count(f'href="{digest_url}"') == 3  # the digest and its two items
    assert opened.status_code == 200
    body = opened.content.decode()
    assert "Digest delivered to #ops-alerts 00:17" in body
    assert all(item.incident.get_absolute_url() in body for item in items)


@pytest.mark.django_db
def test_notification_pages_refuse_people_without_a_role_and_unknown_ids(client, no_role_user, viewer_client):
    sent = _notification(_channel(), at=T0, status=Notification.Status.SENT, sent_at=T0)
    url = reverse("incidents:notification", args=[sent.pk])

    assert client.get(url).status_code == 302  # to the login page
    client.force_login(no_role_user)
    assert client.get(url).status_code == 403
    assert client.get(reverse("incidents:notifications")).status_code == 403
    assert viewer_client.get(reverse("incidents:notification", args=[sent.pk + 1000])).status_code == 404


@pytest.mark.django_db
def test_state_badges_that_are_not_links_are_not_styled_as_links(viewer_client):
    held = _held_channel(waiting=1)[1][0]
    IncidentEvent.objects.create(
        incident=held.incident, kind=IncidentEvent.Kind.SUPPRESSED, params={"reason": "retrying"}
    )

    body = viewer_client.get(reverse("incidents:detail", args=[held.incident.pk])).content.decode()

    assert '<span class="notify-state notify-state-muted" data-testid="notify-state">Deferred' in body
    css = (pytest.importorskip("pathlib").Path("aimsweb/static/aimsweb/aims.css")).read_text()
    section = css[css.index("/* --- Notification state") :]
    assert ".notify-state {" in section and "cursor: default" in section and "color: var(--text)" in section
    assert "a.notify-state {" in section and "text-decoration: underline" in section
