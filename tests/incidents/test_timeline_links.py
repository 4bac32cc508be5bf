"""Timeline entries that cite a retry policy, a channel or a maintenance window link to its read-only page; the
rest of the words stay escaped text."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import IncidentEvent, NotificationChannel, NotificationRoute
from incidents.pages.timeline_links import SettingLinks
from incidents.timeline import event_html, event_text
from monitors.models import MaintenanceWindow
from remediation.services.policies import Skip
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_retry_policy

pytestmark = pytest.mark.django_db


def _event(incident, kind, params, note=""):
    return IncidentEvent.objects.create(incident=incident, kind=kind, params=params, note=note)


def test_event_html_links_policy_by_id_and_escapes_name():
    policy = make_retry_policy(name="<b>Nightly</b> & co")
    params = {"reason": Skip.ADVISED_AGAINST, "reason_params": {"policy": policy.name, "policy_id": policy.pk}}

    html = event_html(kind="retry_skipped", params=params, note="", at=timezone.now(), link=SettingLinks())

    assert html == (
        f'Not retried: policy “<a href="/settings/policies/{policy.pk}/" data-cites="policy">'
        "&lt;b&gt;Nightly&lt;/b&gt; &amp; co</a>” would allow it, but the analysis advises against a retry."
    )
    # The plain words, for the API, notifications and the admin, are unchanged.
    assert event_text(kind="retry_skipped", params=params, note="", at=timezone.now()).startswith(
        "Not retried: policy “<b>Nightly</b> & co”"
    )


def test_event_html_unknown_setting_plain_text():
    params = {"reason": Skip.ADVISED_AGAINST, "reason_params": {"policy": "gone", "policy_id": 987654}}
    html = event_html(kind="retry_skipped", params=params, note="", at=timezone.now(), link=SettingLinks())
    assert "<a" not in html and "gone" in html


def test_event_html_note_cannot_forge_link():
    html = event_html(
        kind="commented",
        params={},
        note='<a href="javascript:alert(1)">x</a> \ue000deadbeef0\ue001',
        at=timezone.now(),
        link=SettingLinks(),
    )
    assert "<a" not in html and "&lt;a href=" in html


def test_incident_page_timeline_links_each_setting(viewer_client):
    incident = make_incident()
    policy = make_retry_policy(name="Transient reruns")
    channel = NotificationChannel.objects.create(name="ops-mail", kind="email", recipients="a@example.com")
    now = timezone.now()
    window = MaintenanceWindow.objects.create(name="Patching", starts_at=now, ends_at=now + timedelta(hours=1))
    _event(incident, "retry_scheduled", {"attempt_number": 1, "max_attempts": 3, "policy": policy.name})  # by name
    _event(incident, "notified", {"channel": str(channel), "channel_id": channel.pk, "event": "opened"})
    route = NotificationRoute.objects.create(name="Every incident")
    _event(
        incident,
        "escalated",
        {
            "after_minutes": 15,
            "channels": [str(channel)],
            "channel_ids": [channel.pk],
            "route": route.name,
            "route_id": route.pk,
        },
    )
    _event(
        incident,
        "suppressed",
        {"reason": "maintenance", "window": window.name, "window_id": window.pk, "until": window.ends_at.isoformat()},
    )

    html = viewer_client.get(f"/incidents/{incident.pk}/").content.decode()

    assert f'<a href="/settings/policies/{policy.pk}/" data-cites="policy">Transient reruns</a>' in html
    assert html.count(f'<a href="/settings/channels/{channel.pk}/" data-cites="channel">ops-mail (Email)</a>') == 2
    assert f'<a href="/settings/maintenance/{window.pk}/" data-cites="maintenance">Patching</a>' in html
    assert f'(route “<a href="/settings/routes/{route.pk}/" data-cites="route">Every incident</a>”)' in html
    for path in (f"/settings/policies/{policy.pk}/", f"/settings/channels/{channel.pk}/"):
        assert viewer_client.get(path).status_code == 200
