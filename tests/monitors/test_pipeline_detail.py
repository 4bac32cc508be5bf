"""A pipeline's page (health numbers, run strip, duration chart, open incidents, recent runs, a fixed number of
queries), and what both pipeline pages share: escaping, roles and the navigation link."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_pipeline, make_retry_attempt, make_run
from tests.monitors.pipeline_pages_helpers import S, run_at, strip_cells

# The pipeline page


@pytest.mark.django_db
def test_pipeline_detail_shows_header(viewer_client):
    pipeline = make_pipeline(
        name="orders_to_lake", external_id="ext-orders-42", owner="data-eng@example.com", criticality="high"
    )

    html = viewer_client.get(f"/pipelines/{pipeline.pk}/").content.decode()

    assert '<h1 id="pipeline-name">orders_to_lake</h1>' in html
    for text in (pipeline.connection.name, "Azure Data Factory", ">High<", "data-eng@example.com", "ext-orders-42"):
        assert text in html


@pytest.mark.django_db
def test_pipeline_detail_kpis_count_the_week_and_percentiles(viewer_client):
    pipeline = make_pipeline()
    for minute in range(1, 11):  # finished runs of 1 to 10 minutes, the 3rd and the 7th failed
        run_at(pipeline, S.FAILED if minute in (3, 7) else S.SUCCEEDED, timedelta(hours=minute), minute * 60_000)
    run_at(pipeline, S.RUNNING, timedelta(minutes=5), duration_ms=None)
    run_at(pipeline, S.FAILED, timedelta(days=8), duration_ms=36_000_000)  # before the window

    html = viewer_client.get(f"/pipelines/{pipeline.pk}/").content.decode()

    assert 'data-kpi="runs">11<' in html
    assert 'data-kpi="failures" class="pl-rate-failing">2<' in html
    assert re.search(r'data-kpi="failure-rate"><span title="2 of 10 finished runs failed">20%', html)
    # percentile_cont: median between 5 and 6 min; p95 at rank 8.55 between 9 and 10 min.
    assert '<data value="330000">5 min 30 s</data>' in html
    assert '<data value="573000">9 min 33 s</data>' in html


@pytest.mark.django_db
def test_pipeline_detail_without_runs_shows_dashes(viewer_client):
    pipeline = make_pipeline()

    html = viewer_client.get(f"/pipelines/{pipeline.pk}/").content.decode()

    assert 'data-kpi="runs">0<' in html
    for kpi in ("failure-rate", "median", "p95"):
        assert f'data-kpi="{kpi}">—<' in html
    assert "No finished run with a duration yet." in html and "<svg" not in html


@pytest.mark.django_db
def test_pipeline_detail_strip_and_chart_have_one_point_per_run(viewer_client):
    pipeline = make_pipeline()
    runs = []
    for i in range(60, 5, -1):  # 55 finished runs, every 10th failed, oldest first
        runs.append(run_at(pipeline, S.FAILED if i % 10 == 0 else S.SUCCEEDED, timedelta(hours=i), 60_000 + i))
    for i in range(5, 0, -1):
        runs.append(run_at(pipeline, S.RUNNING, timedelta(minutes=i), duration_ms=None))

    html = viewer_client.get(f"/pipelines/{pipeline.pk}/").content.decode()

    assert [run_id for _, run_id in strip_cells(html)] == [run.pk for run in runs[-50:]]
    svg = re.search(r"<svg .*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and 'viewBox="0 0 600 120"' in svg and 'data-points="50"' in svg
    assert re.search(r'aria-labelledby="duration-trend-title duration-trend-desc"', svg)
    assert '<title id="duration-trend-title">' in svg and "Durations of the last 50 finished runs" in svg
    assert svg.count('class="pl-trend-point') == 50
    # The chart's 50 finished runs are runs[5:55]; its failed ones are those 10 hours apart from 50 to 10.
    assert svg.count("pl-trend-failed") == 5 == svg.count('class="pl-trend-stem"')
    assert "5 failed runs marked" in svg


@pytest.mark.django_db
def test_pipeline_detail_lists_open_incidents_and_recent_runs(viewer_client):
    pipeline = make_pipeline()
    failed = run_at(
        pipeline,
        S.FAILED,
        timedelta(hours=1),
        failed_step="Load orders",
        error_message="Operation on target Load orders failed\nstack line 1\nstack line 2",
    )
    make_retry_attempt(failed)
    make_retry_attempt(failed, attempt_number=2, idempotency_key=f"{failed.pk}:2")
    open_incident = make_incident(failed, title="Orders load keeps failing")
    resolved = make_incident(failed, title="Old trouble", status=Incident.Status.RESOLVED)
    make_incident(make_run(), title="Someone else's")

    html = viewer_client.get(f"/pipelines/{pipeline.pk}/").content.decode()

    assert f'<a href="/incidents/{open_incident.pk}/">Orders load keeps failing</a>' in html
    assert f'id="incident-{resolved.pk}"' not in html and "Someone else" not in html
    run_row = re.search(rf'<tr id="run-{failed.pk}">(.*?)</tr>', html, re.S).group(1)
    assert "Load orders" in run_row and "Operation on target Load orders failed" in run_row
    assert "stack line" not in run_row
    assert re.search(r'<td class="wide">2</td>\s*$', run_row)
    assert f'href="/runs/?pipeline={pipeline.pk}">All runs of this pipeline' in html


@pytest.mark.django_db
def test_pipeline_detail_unknown_pipeline_is_404(viewer_client):
    assert viewer_client.get("/pipelines/999999/").status_code == 404


@pytest.mark.django_db
def test_pipeline_detail_query_count_constant(viewer_client):
    pipeline = make_pipeline()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get(f"/pipelines/{pipeline.pk}/").status_code == 200
        return len(captured)

    make_incident(run_at(pipeline, S.FAILED, timedelta(hours=1)))
    few = queries()
    for i in range(60):
        run = run_at(pipeline, S.FAILED if i % 4 == 0 else S.SUCCEEDED, timedelta(hours=2 + i))
        if i % 4 == 0:
            make_retry_attempt(run)
            make_incident(run)

    assert queries() == few


# Both pages: escaping and roles


@pytest.mark.django_db
def test_pipeline_pages_escape_names_and_errors(viewer_client):
    pipeline = make_pipeline(name="<script>alert('name')</script>", owner="<b>owner</b>")
    run = run_at(pipeline, S.FAILED, timedelta(hours=1), error_message="<img src=x onerror=alert(1)>")
    make_incident(run, title="<script>alert('incident')</script>")

    listing = viewer_client.get("/pipelines/").content.decode()
    detail = viewer_client.get(f"/pipelines/{pipeline.pk}/").content.decode()
    runs = viewer_client.get("/runs/", {"pipeline": pipeline.pk}).content.decode()

    for html in (listing, detail, runs):
        assert "<script>alert(" not in html
        assert "&lt;script&gt;alert(&#x27;name&#x27;)&lt;/script&gt;" in html
    assert "<img src=x" not in detail and "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "<b>owner</b>" not in detail and "&lt;script&gt;alert(&#x27;incident&#x27;)" in detail


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/pipelines/", "/pipelines/{pk}/"])
def test_pipeline_pages_viewer_reads_no_role_is_forbidden(client, viewer, no_role_user, url):
    url = url.format(pk=make_pipeline().pk)
    client.force_login(viewer)
    assert client.get(url).status_code == 200
    client.force_login(no_role_user)
    assert client.get(url).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/pipelines/", "/pipelines/{pk}/"])
def test_pipeline_pages_anonymous_redirects_to_login(client, url):
    url = url.format(pk=make_pipeline().pk)

    response = client.get(url)

    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


@pytest.mark.django_db
def test_nav_links_pipelines_between_incidents_and_runs(viewer_client):
    html = viewer_client.get("/pipelines/").content.decode()

    nav = re.search(r'<nav class="nav".*?</nav>', html, re.S).group(0)
    pipelines = nav.index('href="/pipelines/" aria-current="page">Pipelines<')
    assert nav.index(">Incidents<") < pipelines < nav.index(">Runs<")
