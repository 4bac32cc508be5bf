"""A series' page (band chart, season, state, settings, open incident, notes), its notes form for Responders and
Admins, the anomaly and missed-run evidence on the incident page, and the insights admin."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from insights.models import Series, SeriesNote
from tests.insights.factories import add_points, make_anomaly_incident, make_missed_run_incident, make_series
from tests.monitors.factories import make_pipeline


@pytest.fixture
def series(db) -> Series:
    pipeline = make_pipeline(name="pl_daily_sales")
    series = make_series(pipeline=pipeline, key=f"pipeline:{pipeline.pk}:duration_seconds", season="day_of_week")
    add_points(series, [100.0] * 10 + [300.0], anomalous={10})
    return series


def note_post(series: Series, **fields) -> dict:
    start = timezone.localtime() - timedelta(days=3)
    return {
        "kind": "expected",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "note": "a planned backfill",
        **fields,
    }


def test_series_page_viewer_sees_chart_season_state_and_no_form(series, viewer_client):
    SeriesNote.objects.create(
        series=series, kind="excluded", start=timezone.now() - timedelta(days=2), end=timezone.now(), note="outage"
    )

    response = viewer_client.get(f"/health/series/{series.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "pl_daily_sales: run duration" in html
    assert re.search(
        r'<svg class="band-svg"[^>]*role="img"[^>]*aria-label="pl_daily_sales: run duration: 11 points', html
    )
    assert html.count('class="band-anomaly"') == 1 and html.count('<polygon class="band-area"') == 1
    assert 'data-testid="season">same weekday<' in html
    assert 'data-testid="note"' in html and "Period excluded" in html and "outage" in html
    assert "<form" not in html.split("series-notes-title")[1].split("</section>")[0]
    assert "/admin/insights/series/" not in html
    assert "style=" not in html.split("<main>")[1]


def test_series_page_shows_open_incident_and_admin_link_for_admin(series, admin_client_):
    point = series.points.order_by("-t").first()
    incident = make_anomaly_incident(series, point)

    html = admin_client_.get(f"/health/series/{series.pk}/").content.decode()

    assert f'href="/incidents/{incident.pk}/"' in html
    assert f'href="/admin/insights/series/{series.pk}/change/"' in html
    assert 'action="/health/series/' in html  # Admins may annotate


def test_series_page_responder_sees_note_form(series, responder_client):
    html = responder_client.get(f"/health/series/{series.pk}/").content.decode()

    assert f'action="/health/series/{series.pk}/notes/"' in html
    assert 'type="datetime-local"' in html and "Exclude this period" in html


def test_series_page_unknown_series_not_found(viewer_client, db):
    assert viewer_client.get("/health/series/999999/").status_code == 404


def test_series_note_viewer_post_forbidden(series, viewer_client):
    response = viewer_client.post(f"/health/series/{series.pk}/notes/", note_post(series))

    assert response.status_code == 403
    assert not SeriesNote.objects.exists()


def test_series_note_end_before_start_rerendered_with_field_error(series, responder_client):
    data = note_post(series)
    data["start"], data["end"] = data["end"], data["start"]

    response = responder_client.post(f"/health/series/{series.pk}/notes/", data)

    html = response.content.decode()
    assert response.status_code == 400
    assert "The end comes before the start." in html
    assert '<details class="action panel" open>' in html
    assert not SeriesNote.objects.exists()


def test_series_note_malformed_time_rerendered_with_field_error(series, responder_client):
    response = responder_client.post(f"/health/series/{series.pk}/notes/", note_post(series, start="yesterday"))

    assert response.status_code == 400
    assert "Enter a valid date/time." in response.content.decode()


def test_series_note_missing_start_named_by_service(series, responder_client):
    response = responder_client.post(f"/health/series/{series.pk}/notes/", note_post(series, start=""))

    assert response.status_code == 400
    assert "Give the first bucket" in response.content.decode()


def test_series_note_saved_redirects_with_message_and_listed(series, responder_client):
    response = responder_client.post(f"/health/series/{series.pk}/notes/", note_post(series), follow=True)

    assert response.redirect_chain == [(f"/health/series/{series.pk}/", 303)]
    html = response.content.decode()
    assert "Marked as expected:" in html and "a planned backfill" in html
    note = SeriesNote.objects.get()
    assert note.kind == "expected" and note.created_by.get_username() == "rory"


def test_series_note_marking_the_anomaly_expected_resolves_its_incident(series, responder_client):
    incident = make_anomaly_incident(series, series.points.order_by("-t").first())
    Series.objects.filter(pk=series.pk).update(state=Series.State.ANOMALOUS)
    start = timezone.localtime() - timedelta(days=1)
    data = note_post(
        series, start=start.strftime("%Y-%m-%dT%H:%M"), end=timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    )

    response = responder_client.post(f"/health/series/{series.pk}/notes/", data, follow=True)

    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert "Its incident is resolved." in response.content.decode()


# --- The incident page ------------------------------------------------------------------------------------------


def test_incident_page_anomaly_evidence_chart_values_season_and_series_link(series, viewer_client):
    point = series.points.order_by("-t").first()
    incident = make_anomaly_incident(series, point)

    html = viewer_client.get(f"/incidents/{incident.pk}/").content.decode()

    section = html.split('id="incident-anomaly"')[1].split("</section>")[0]
    assert f'href="/health/series/{series.pk}/"' in section
    assert 'data-testid="anomaly-value">300 <span class="muted">(200 % above expected)' in section
    assert "same weekday" in section
    assert re.search(r'<svg class="band-svg"[^>]*role="img"', section)
    assert section.count('class="band-anomaly"') == 1
    assert incident.latest_occurrence.run.external_run_id in section


def test_incident_page_missed_run_evidence_expected_time_schedule_and_tolerance(viewer_client, db):
    pipeline = make_pipeline(name="pl_nightly")
    expected_at = timezone.now().replace(hour=2, minute=0, second=0, microsecond=0) - timedelta(days=1)
    incident = make_missed_run_incident(pipeline, expected_at=expected_at)

    html = viewer_client.get(f"/incidents/{incident.pk}/").content.decode()

    section = html.split('id="incident-missed-run"')[1].split("</section>")[0]
    assert f"{timezone.localtime(expected_at):%Y-%m-%d %H:%M}" in section
    assert "30 minutes" in section and "0 2 * * *" in section and "its trigger nightly" in section
    assert f'href="/pipelines/{pipeline.pk}/"' in section


def test_incident_page_run_failure_shows_no_anomaly_or_missed_run_section(viewer_client, db):
    from tests.incidents.factories import make_incident

    html = viewer_client.get(f"/incidents/{make_incident().pk}/").content.decode()

    assert 'id="incident-anomaly"' not in html and 'id="incident-missed-run"' not in html


# --- Admin --------------------------------------------------------------------------------------------------------


def test_series_admin_admin_edits_watch_settings_only(series, admin_client_):
    page = admin_client_.get(f"/admin/insights/series/{series.pk}/change/").content.decode()

    assert 'name="sensitivity"' in page and 'name="recover_after"' in page and 'name="enabled"' in page
    assert 'name="key"' not in page and 'name="state"' not in page
    response = admin_client_.post(
        f"/admin/insights/series/{series.pk}/change/",
        {"enabled": "", "sensitivity": "low", "direction": "drop", "min_change_percent": "30", "recover_after": "5"},
    )
    assert response.status_code == 302
    series.refresh_from_db()
    assert (series.enabled, series.sensitivity, series.direction, series.min_change_percent, series.recover_after) == (
        False,
        "low",
        "drop",
        30,
        5,
    )
    assert admin_client_.get("/admin/insights/series/add/").status_code == 403


def test_series_note_and_schedule_admin_read_only(series, admin_client_):
    note = SeriesNote.objects.create(series=series, kind="expected", start=timezone.now(), end=timezone.now())

    assert admin_client_.get("/admin/insights/seriesnote/").status_code == 200
    assert admin_client_.get("/admin/insights/seriesnote/add/").status_code == 403
    assert admin_client_.get("/admin/insights/expectedschedule/add/").status_code == 403
    page = admin_client_.get(f"/admin/insights/seriesnote/{note.pk}/change/").content.decode()
    assert 'name="note"' not in page
