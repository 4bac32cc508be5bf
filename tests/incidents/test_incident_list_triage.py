"""The incident list's triage tools: time ranges and "mine", the wider bulk actions (silence, assign, comment, every
matching), CSV/JSON export, and the relative times and copy links it draws."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from tests.incidents.factories import make_incident
from tests.incidents.incident_list_helpers import HTMX, URL, ago, page, row_ids

BULK = "/incidents/bulk/"
EXPORT = "/incidents/export/"


def statuses(*incidents: Incident) -> list[str]:
    return [Incident.objects.get(pk=incident.pk).status for incident in incidents]


# --- Time ranges and mine -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_list_period_keeps_only_incidents_seen_in_it(viewer_client):
    recent = make_incident(last_seen_at=ago(20))
    yesterday = make_incident(last_seen_at=ago(60 * 20))
    old = make_incident(last_seen_at=ago(60 * 24 * 3))

    assert row_ids(page(viewer_client, "period=1h")) == [recent.pk]
    assert row_ids(page(viewer_client, "period=24h")) == [recent.pk, yesterday.pk]
    assert row_ids(page(viewer_client, "period=7d")) == [recent.pk, yesterday.pk, old.pk]


@pytest.mark.django_db
def test_incident_list_custom_range_selects_and_stays_in_links(viewer_client):
    now = timezone.localtime()
    inside = make_incident(last_seen_at=now - timedelta(hours=5), opened_at=now - timedelta(hours=6))
    make_incident(last_seen_at=now - timedelta(minutes=5), opened_at=now - timedelta(minutes=10))
    since = (now - timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M")
    until = (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    html = page(viewer_client, f"period=custom&since={since}&until={until}&sort=-severity")

    assert row_ids(html) == [inside.pk]
    assert f"since={since.replace(':', '%3A')}" in html  # the sort and page links keep the range


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("period=custom&since=2026-01-02T00:00&until=2026-01-01T00:00", "To: The end must come after the start."),
        ("period=custom&since=2025-01-01T00:00&until=2026-01-01T00:00", "To: A range spans at most 90 days"),
        ("period=custom&since=yesterday", "From: Give a date and time such as"),
        ("period=2y", "Time: Unknown time range “2y”; use 1h, 24h, 7d or custom."),
    ],
)
def test_incident_list_bad_range_reported_naming_the_field_and_ignored(viewer_client, query, message):
    incident = make_incident(last_seen_at=ago(60 * 24 * 30))

    html = page(viewer_client, query)

    assert message in html and 'id="incident-filter-problems"' in html
    assert row_ids(html) == [incident.pk]  # the range is left out, not the whole list


@pytest.mark.django_db
def test_incident_list_mine_chip_filters_to_my_incidents(responder, responder_client):
    mine = make_incident(assignee=responder)
    make_incident()

    html = page(responder_client)
    assert '<a class="chip" href="?assignee=me">Mine</a>' in html
    assert row_ids(page(responder_client, "assignee=me")) == [mine.pk]
    assert '<a class="chip" href="?" aria-current="true">Mine</a>' in page(responder_client, "assignee=me")


# --- Bulk: silence, assign, comment, every matching ------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_bulk_silence_with_reason_reports_each_incident(responder_client):
    first, second = make_incident(), make_incident(status=Incident.Status.RESOLVED)

    response = responder_client.post(
        BULK,
        {"action": "silence", "duration": "4", "reason": "vendor outage", "ids": [first.pk, second.pk], "next": URL},
        headers=HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert statuses(first, second) == ["silenced", "resolved"]
    silenced = Incident.objects.get(pk=first.pk)
    assert timedelta(hours=3, minutes=59) < silenced.silenced_until - timezone.now() <= timedelta(hours=4)
    assert IncidentEvent.objects.filter(incident=first, kind=IncidentEvent.Kind.SILENCED).exists()
    assert f"#{first.pk}: done" in html and f"#{second.pk}: refused" in html


@pytest.mark.django_db
def test_incident_bulk_assign_to_responder_and_refuses_a_viewer_as_assignee(responder, viewer, responder_client):
    incident = make_incident()

    assigned = responder_client.post(BULK, {"action": "assign", "assignee": responder.pk, "ids": [incident.pk]})
    refused = responder_client.post(
        BULK, {"action": "assign", "assignee": viewer.pk, "ids": [incident.pk]}, headers=HTMX
    )

    assert assigned.status_code == 303
    assert Incident.objects.get(pk=incident.pk).assignee_id == responder.pk
    assert refused.status_code == 400
    assert "Assign to: Choose someone with the Responder or Admin role." in refused.content.decode()


@pytest.mark.django_db
def test_incident_bulk_comment_adds_the_text_to_each_escaped(responder_client):
    first, second = make_incident(), make_incident()
    payload = "<script>alert(1)</script> checked the gateway"

    response = responder_client.post(BULK, {"action": "comment", "text": payload, "ids": [first.pk, second.pk]})
    empty = responder_client.post(BULK, {"action": "comment", "text": "  ", "ids": [first.pk]}, headers=HTMX)

    assert response.status_code == 303
    comments = IncidentEvent.objects.filter(kind=IncidentEvent.Kind.COMMENTED)
    assert sorted(comments.values_list("incident_id", flat=True)) == [first.pk, second.pk]
    assert empty.status_code == 400 and "Comment: Write a comment." in empty.content.decode()
    detail = responder_client.get(f"/incidents/{first.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in detail


@pytest.mark.django_db
def test_incident_bulk_every_matching_acts_on_the_filters_not_the_ticks(responder_client):
    high = [make_incident(severity="high"), make_incident(severity="high")]
    low = make_incident(severity="low")

    response = responder_client.post(
        BULK, {"action": "acknowledge", "scope": "matching", "next": "/incidents/?severity=high"}
    )

    assert response.status_code == 303
    assert statuses(*high) == ["acknowledged", "acknowledged"] and statuses(low) == ["triggered"]


@pytest.mark.django_db
def test_incident_bulk_every_matching_refused_when_more_match_than_the_limit(responder_client, monkeypatch):
    monkeypatch.setattr("incidents.views.incident_list.INCIDENTS_BULK_MAX", 2)
    incidents = [make_incident() for _ in range(3)]

    response = responder_client.post(BULK, {"action": "acknowledge", "scope": "matching", "next": URL}, headers=HTMX)

    assert response.status_code == 400
    assert "Apply to: 3 incidents match these filters; at most 2 at a time." in response.content.decode()
    assert statuses(*incidents) == ["triggered"] * 3


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["silence", "assign", "comment"])
def test_incident_bulk_viewer_forbidden_and_nothing_changes(viewer_client, action):
    incident = make_incident()

    response = viewer_client.post(
        BULK, {"action": action, "duration": "1", "text": "x", "ids": [incident.pk], "scope": "matching"}
    )

    assert response.status_code == 403
    assert statuses(incident) == ["triggered"]
    assert not IncidentEvent.objects.filter(incident=incident).exclude(kind=IncidentEvent.Kind.OPENED).exists()


@pytest.mark.django_db
def test_incident_row_one_tap_acknowledge_acts_on_that_incident_alone(responder_client):
    tapped, ticked = make_incident(), make_incident()

    html = page(responder_client)
    response = responder_client.post(BULK, {"one": tapped.pk, "ids": [ticked.pk], "next": URL})

    assert f'form="incident-bulk" name="one" value="{tapped.pk}"' in html
    assert response.status_code == 303
    assert statuses(tapped, ticked) == ["acknowledged", "triggered"]


# --- Export ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_export_csv_is_the_filtered_list_formula_safe(viewer_client):
    hostile = make_incident(title='=HYPERLINK("http://evil")', severity="high")
    make_incident(severity="low")

    response = viewer_client.get(EXPORT, {"severity": "high", "format": "csv"})

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["X-Export-Total"] == "1" and response["X-Export-Truncated"] == "false"
    assert "attachment;" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(row["id"]) for row in rows] == [hostile.pk]
    assert rows[0]["title"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["url"].endswith(f"/incidents/{hostile.pk}/")


@pytest.mark.django_db
def test_incident_export_json_bounded_and_redacted(viewer_client, monkeypatch):
    monkeypatch.setattr("incidents.pages.incident_export.EXPORT_MAX", 1)
    first = make_incident(last_seen_at=ago(1))
    make_incident(last_seen_at=ago(2))
    run = first.latest_run
    run.error_message = "login failed password=hunter2"
    run.save()

    response = viewer_client.get(EXPORT, {"format": "json"})

    body = json.loads(b"".join(response.streaming_content))
    assert response["X-Export-Truncated"] == "true"
    assert body["total"] == 2 and body["limit"] == 1 and body["truncated"] is True
    assert [row["id"] for row in body["incidents"]] == [first.pk]
    assert "hunter2" not in body["incidents"][0]["error"]


@pytest.mark.django_db
def test_incident_export_bad_format_400_and_anonymous_redirected(viewer_client, client):
    bad = viewer_client.get(EXPORT, {"format": "xlsx"})

    assert bad.status_code == 400 and b"format: use csv or json." in bad.content
    assert client.get(EXPORT).status_code == 302


# --- Relative times, copy links -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_list_times_are_relative_with_the_full_date_in_the_title(viewer_client):
    incident = make_incident(last_seen_at=ago(0))

    html = page(viewer_client)

    assert "data-relative>just now</time>" in html and "0 minutes" not in html
    assert f'data-copy-link="/incidents/{incident.pk}/"' in html


@pytest.mark.django_db
def test_incident_timeline_entries_have_anchors_and_copy_links(responder_client):
    incident = make_incident()
    responder_client.post(f"/incidents/{incident.pk}/comment/", {"text": "looked at it"})
    event = IncidentEvent.objects.get(incident=incident, kind=IncidentEvent.Kind.COMMENTED)

    html = responder_client.get(f"/incidents/{incident.pk}/").content.decode()

    assert f'<li id="event-{event.pk}"' in html
    assert f'data-copy-link="/incidents/{incident.pk}/#event-{event.pk}"' in html


@pytest.mark.django_db
def test_incident_list_custom_chosen_before_dates_is_no_error_and_kept(viewer_client):
    incident = make_incident(last_seen_at=ago(60 * 24 * 30))

    html = page(viewer_client, "period=custom")

    assert 'id="incident-filter-problems"' not in html and row_ids(html) == [incident.pk]
    assert '<option value="custom" selected>' in html


@pytest.mark.django_db
def test_incident_export_refused_without_a_role(no_role_user):
    client = Client()
    client.force_login(no_role_user)

    assert client.get(EXPORT, {"format": "json"}).status_code == 403
