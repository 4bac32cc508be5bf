"""The dashboard page as served: its live partial, who may see it, and its query count."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from incidents.pages.dashboard import dashboard_page
from tests.incidents.dashboard_helpers import NOW, failed, opened, resolved
from tests.monitors.factories import make_connection, make_pipeline

LIVE_IDS = ("dashboard-open", "dashboard-kpis", "dashboard-failures-chart", "dashboard-top-pipelines")


def query_count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


# --- Live partial -------------------------------------------------------------------------------------------------


def _top_level_tags(html: str) -> dict[str, str]:
    """The opening tag of each live block, by id."""
    return {m.group(1): m.group(0) for m in re.finditer(r'<section id="(dashboard-[a-z-]+)"[^>]*>', html)}


@pytest.mark.django_db
def test_dashboard_live_partial_with_oob_marks_every_block():
    failed(make_pipeline(), NOW - timedelta(minutes=3))
    context = dashboard_page(window="24h", now=NOW)

    live = render_to_string("incidents/dashboard.html#live", {**context, "oob": True})
    page_part = render_to_string("incidents/dashboard.html#live", context)

    tags = _top_level_tags(live)
    assert set(tags) == set(LIVE_IDS)
    assert all('hx-swap-oob="true"' in tag for tag in tags.values())
    assert "<html" not in live
    assert set(_top_level_tags(page_part)) == set(LIVE_IDS) and "hx-swap-oob" not in page_part


@pytest.mark.django_db
def test_dashboard_page_live_area_connects_websocket(viewer_client):
    html = viewer_client.get("/").content.decode()

    assert '<span class="live" data-live-indicator>Connecting…</span>' in html
    wrapper = re.search(r'<div class="dashboard" hx-ext="ws" ws-connect="([^"]+)">(.*)</div>', html, re.S)
    assert wrapper.group(1) == "/ws/dashboard/?window=24h"
    assert set(_top_level_tags(wrapper.group(2))) == set(LIVE_IDS)
    assert "hx-swap-oob" not in html


@pytest.mark.django_db
def test_dashboard_htmx_request_gets_live_partial(viewer_client):
    html = viewer_client.get("/?window=7d", headers={"HX-Request": "true"}).content.decode()

    assert "<html" not in html and 'id="dashboard-kpis"' in html and "last 7 days" in html


# --- Access -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["viewer_client", "responder_client", "admin_client_"])
def test_dashboard_page_role_users_get_200(request, client_fixture):
    response = request.getfixturevalue(client_fixture).get("/")

    assert response.status_code == 200
    assert "<h1>Dashboard</h1>" in response.content.decode()


@pytest.mark.django_db
def test_dashboard_page_user_without_role_forbidden(client, no_role_user):
    client.force_login(no_role_user)

    assert client.get("/").status_code == 403


@pytest.mark.django_db
def test_dashboard_page_anonymous_redirected_to_login(client):
    response = client.get("/")

    assert response.status_code == 302 and response["Location"] == "/login/?next=/"


# --- Query count --------------------------------------------------------------------------------------------------


def _fill(scale: int, now: datetime) -> None:
    """Runs, analyses, incidents and events across both windows, `scale` of each kind."""
    connection_ = make_connection()
    for index in range(scale):
        pipeline = make_pipeline(connection_)
        for hours in (1, 30, 100):
            run = failed(pipeline, now - timedelta(hours=hours), ErrorCategory.TRANSIENT)
            FailureAnalysis.objects.filter(run=run).update(created_at=run.started_at)
        incident = opened(timedelta(hours=index % 30), severity=list(Severity)[index % 5], now=now)
        if index % 3 == 1:
            resolved(
                incident,
                after=timedelta(minutes=10),
                kind=IncidentEvent.Kind.AUTO_RESOLVED,
                actor_type=IncidentEvent.ActorType.RETRY_ENGINE,
            )
        Incident.objects.filter(pk=incident.pk).update(acknowledged_at=incident.opened_at + timedelta(minutes=3))


@pytest.mark.django_db
@pytest.mark.parametrize("window", ["24h", "7d"])
def test_dashboard_context_query_count_constant(window):
    now = timezone.now()
    _fill(1, now)
    small = query_count(lambda: dashboard_page(window=window, now=now))
    _fill(15, now)

    large = query_count(lambda: dashboard_page(window=window, now=now))

    assert large == small == 11
    assert len(dashboard_page(window=window, now=now)["recent_open"]) == 10


@pytest.mark.django_db
def test_dashboard_page_query_count_constant(viewer_client):
    now = timezone.now()
    _fill(1, now)
    viewer_client.get("/")  # warm up per-process caches
    small = query_count(lambda: viewer_client.get("/"))
    _fill(15, now)

    large = query_count(lambda: viewer_client.get("/"))

    assert large == small
