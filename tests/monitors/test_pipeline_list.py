"""The pipelines list and a pipeline's page (health numbers, run strips, duration chart, open incidents), and the
runs page's pipeline filter and pagination: numbers, filters, escaping, roles and a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident
from monitors.models import Pipeline, PipelineRun
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_retry_attempt, make_run

S = PipelineRun.Status


def run_at(pipeline: Pipeline, status: str, ago: timedelta, duration_ms: int | None = 300_000, **fields) -> PipelineRun:
    started = timezone.now() - ago
    ended = started + timedelta(milliseconds=duration_ms) if duration_ms is not None else None
    return make_run(pipeline, status=status, started_at=started, ended_at=ended, duration_ms=duration_ms, **fields)


def row(html: str, pipeline: Pipeline) -> str:
    match = re.search(rf'<tr id="pipeline-{pipeline.pk}">(.*?)</tr>', html, re.S)
    assert match, f"no row for pipeline {pipeline.pk}"
    return match.group(1)


def strip_cells(html: str) -> list[tuple[str, int]]:
    """(status, run id) of each strip cell, in page order."""
    return [
        (status, int(run_id))
        for status, run_id in re.findall(r'class="run-cell run-cell-(\w+)"[^>]*?#run-(\d+)"', html, re.S)
    ]


def row_order(html: str, pipelines: list[Pipeline]) -> list[Pipeline]:
    return sorted(pipelines, key=lambda p: html.index(f'id="pipeline-{p.pk}"'))


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# The list


@pytest.mark.django_db
def test_pipeline_list_row_counts_failure_rate_open_incidents_and_strip(viewer_client):
    pipeline = make_pipeline(name="sales_daily", criticality=Pipeline.Criticality.CRITICAL)
    old_failure = run_at(pipeline, S.FAILED, timedelta(days=10))  # in the strip, outside the 7-day window
    cancelled = run_at(pipeline, S.CANCELLED, timedelta(days=5))
    ok1 = run_at(pipeline, S.SUCCEEDED, timedelta(days=3), duration_ms=90_000)
    failed = run_at(pipeline, S.FAILED, timedelta(days=2))
    ok2 = run_at(pipeline, S.SUCCEEDED, timedelta(days=1))
    running = run_at(pipeline, S.RUNNING, timedelta(minutes=10), duration_ms=None)  # not finished: not counted
    make_incident(failed)
    make_incident(failed, status=Incident.Status.ACKNOWLEDGED)
    make_incident(old_failure, status=Incident.Status.RESOLVED)
    make_incident(make_run())  # another pipeline's

    html = row(viewer_client.get("/pipelines/").content.decode(), pipeline)

    assert f'href="/pipelines/{pipeline.pk}/">sales_daily</a>' in html
    assert "Critical" in html and pipeline.connection.name in html
    # 1 failed of 4 finished (cancelled counts as finished, the running run and the 10-day-old failure do not).
    assert re.search(r'data-failure-rate><span class="pl-rate-failing" title="1 of 4 finished runs failed">25%', html)
    assert f'href="/incidents/?pipeline={pipeline.pk}"' in html
    assert re.search(r"data-open-incidents><a [^>]*>2</a>", html)
    assert strip_cells(html) == [
        ("failed", old_failure.pk),
        ("cancelled", cancelled.pk),
        ("succeeded", ok1.pk),
        ("failed", failed.pk),
        ("succeeded", ok2.pk),
        ("running", running.pk),
    ]
    assert f'href="/runs/?pipeline={pipeline.pk}#run-{ok1.pk}"' in html
    assert f'title="Succeeded, {local(ok1.started_at)}, 1 min 30 s"' in html
    assert '<span class="status status-running">Running</span>' in html  # the last run


@pytest.mark.django_db
def test_pipeline_list_strip_more_than_20_runs_shows_newest_20_oldest_first(viewer_client):
    pipeline = make_pipeline()
    runs = [run_at(pipeline, S.SUCCEEDED, timedelta(hours=30 - i)) for i in range(25)]
    busy_other = make_pipeline()
    for i in range(30):
        run_at(busy_other, S.FAILED, timedelta(minutes=i))

    html = viewer_client.get("/pipelines/").content.decode()

    assert [run_id for _, run_id in strip_cells(row(html, pipeline))] == [run.pk for run in runs[5:]]
    assert len(strip_cells(row(html, busy_other))) == 20


@pytest.mark.django_db
def test_pipeline_list_strip_runs_started_together_still_20_newest_by_id(viewer_client):
    pipeline = make_pipeline()
    started = timezone.now() - timedelta(hours=1)
    runs = [make_run(pipeline, status=S.SUCCEEDED, started_at=started) for _ in range(25)]

    html = row(viewer_client.get("/pipelines/").content.decode(), pipeline)

    assert [run_id for _, run_id in strip_cells(html)] == [run.pk for run in runs[5:]]


@pytest.mark.django_db
def test_pipeline_list_strip_of_rare_pipeline_reaches_past_the_week(viewer_client):
    weekly = make_pipeline()
    runs = [run_at(weekly, S.SUCCEEDED, timedelta(weeks=week)) for week in range(22, 0, -1)]

    html = row(viewer_client.get("/pipelines/").content.decode(), weekly)

    assert [run_id for _, run_id in strip_cells(html)] == [run.pk for run in runs[-20:]]


@pytest.mark.django_db
def test_pipeline_list_without_finished_runs_shows_dash(viewer_client):
    idle = make_pipeline()
    busy = make_pipeline()
    run_at(busy, S.RUNNING, timedelta(minutes=1), duration_ms=None)

    html = viewer_client.get("/pipelines/").content.decode()

    for pipeline in (idle, busy):
        assert re.search(r'data-failure-rate><span class="muted"[^>]*>—', row(html, pipeline))
    assert "No runs yet" in row(html, idle)
    assert "No runs yet" not in row(html, busy)


@pytest.mark.django_db
def test_pipeline_list_filters_by_connection_and_search(viewer_client):
    adf, other = make_connection(), make_connection()
    sales = make_pipeline(adf, name="sales_daily")
    finance = make_pipeline(adf, name="finance_monthly")
    elsewhere = make_pipeline(other, name="sales_hourly")

    by_connection = viewer_client.get("/pipelines/", {"connection": adf.pk}).content.decode()
    by_search = viewer_client.get("/pipelines/", {"q": "SALES"}).content.decode()
    both = viewer_client.get("/pipelines/", {"connection": other.pk, "q": "sales"}).content.decode()
    bogus = viewer_client.get("/pipelines/", {"connection": "x", "sort": "nonsense"}).content.decode()

    def shown(html: str) -> set[int]:
        return {int(pk) for pk in re.findall(r'<tr id="pipeline-(\d+)">', html)}

    assert shown(by_connection) == {sales.pk, finance.pk}
    assert shown(by_search) == {sales.pk, elsewhere.pk}
    assert shown(both) == {elsewhere.pk}
    assert shown(bogus) == {sales.pk, finance.pk, elsewhere.pk}  # bad input filters nothing rather than failing


@pytest.mark.django_db
def test_pipeline_list_sort_orders_by_failure_rate_and_open_incidents(viewer_client):
    half = make_pipeline(name="a_half")
    run_at(half, S.FAILED, timedelta(hours=2))
    run_at(half, S.SUCCEEDED, timedelta(hours=1))
    always = make_pipeline(name="b_always")
    run_at(always, S.FAILED, timedelta(hours=1))
    make_incident(run_at(always, S.FAILED, timedelta(days=9)))  # too old to count, still open
    quiet = make_pipeline(name="c_quiet")
    make_incident(make_run(quiet, started_at=timezone.now() - timedelta(days=30)))
    make_incident(make_run(quiet, started_at=timezone.now() - timedelta(days=31)))
    pipelines = [half, always, quiet]

    def order(sort: str) -> list[str]:
        html = viewer_client.get("/pipelines/", {"sort": sort}).content.decode()
        return [p.name for p in row_order(html, pipelines)]

    assert order("name") == ["a_half", "b_always", "c_quiet"]
    assert order("failure_rate") == ["b_always", "a_half", "c_quiet"]  # no finished run this week: last
    assert order("open_incidents") == ["c_quiet", "b_always", "a_half"]


@pytest.mark.django_db
def test_pipeline_list_more_than_50_pipelines_paginates(viewer_client):
    connection_ = make_connection()
    for n in range(51):
        make_pipeline(connection_, name=f"p{n:02d}")

    first = viewer_client.get("/pipelines/", {"q": "p"}).content.decode()
    second = viewer_client.get("/pipelines/", {"q": "p", "page": 2}).content.decode()

    assert first.count('<tr id="pipeline-') == 50 and "Page 1 of 2" in first
    assert 'rel="next" href="?q=p&amp;sort=name&amp;page=2"' in first
    assert second.count('<tr id="pipeline-') == 1 and ">p50</a>" in second and 'rel="prev"' in second


@pytest.mark.django_db
def test_pipeline_list_htmx_gets_results_only(viewer_client):
    make_pipeline()

    html = viewer_client.get("/pipelines/", headers={"HX-Request": "true"}).content.decode()
    restored = viewer_client.get(
        "/pipelines/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    ).content.decode()

    assert html.lstrip().startswith('<div id="pipeline-results"') and "<html" not in html
    assert "<html" in restored  # htmx restoring history after a cache miss needs the whole page


@pytest.mark.django_db
def test_pipeline_list_query_count_constant(viewer_client):
    def build(pipelines: int, runs: int) -> None:
        for _ in range(pipelines):
            pipeline = make_pipeline()
            for i in range(runs):
                run_at(pipeline, S.FAILED if i % 3 == 0 else S.SUCCEEDED, timedelta(hours=i))
            make_incident(pipeline.runs.first())

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get("/pipelines/").status_code == 200
        return len(captured)

    build(3, 5)
    few = queries()
    build(9, 30)

    assert queries() == few


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


# The runs page


@pytest.mark.django_db
def test_runs_page_pipeline_filter_shows_only_its_runs(viewer_client):
    pipeline = make_pipeline(name="sales_daily")
    mine = run_at(pipeline, S.FAILED, timedelta(hours=1))
    other = run_at(make_pipeline(), S.FAILED, timedelta(hours=1))

    filtered = viewer_client.get("/runs/", {"pipeline": pipeline.pk, "status": "failed"}).content.decode()
    unknown = viewer_client.get("/runs/", {"pipeline": 999999}).content.decode()

    assert f'id="run-{mine.pk}"' in filtered and f'id="run-{other.pk}"' not in filtered
    assert f'<input type="hidden" name="pipeline" value="{pipeline.pk}">' in filtered
    assert f'<a href="/pipelines/{pipeline.pk}/">sales_daily</a>' in filtered
    assert 'href="/runs/?status=failed" aria-label="Show runs of every pipeline"' in filtered
    assert f'id="run-{mine.pk}"' in unknown and f'id="run-{other.pk}"' in unknown  # unknown pipeline: no filter


@pytest.mark.django_db
def test_runs_page_more_than_50_runs_paginates(viewer_client):
    pipeline = make_pipeline()
    runs = [run_at(pipeline, S.FAILED, timedelta(minutes=i)) for i in range(51)]  # newest first
    make_run(status=S.FAILED)  # another pipeline's, newest of all

    first = viewer_client.get("/runs/", {"pipeline": pipeline.pk, "status": "failed"}).content.decode()
    second = viewer_client.get(
        "/runs/", {"pipeline": pipeline.pk, "status": "failed", "page": 2}, headers={"HX-Request": "true"}
    ).content.decode()

    assert first.count('<tr id="run-') == 50 and f'id="run-{runs[50].pk}"' not in first
    assert f'rel="next" href="?status=failed&amp;pipeline={pipeline.pk}&amp;page=2"' in first
    assert 'rel="prev"' not in first
    assert second.lstrip().startswith('<tbody id="run-rows"')
    assert second.count('<tr id="run-') == 1 and f'id="run-{runs[50].pk}"' in second
    assert 'rel="prev"' in second and 'rel="next"' not in second


@pytest.mark.django_db
def test_runs_page_filtered_query_count_constant(viewer_client):
    pipeline = make_pipeline()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer_client.get("/runs/", {"pipeline": pipeline.pk, "page": 1}).status_code == 200
        return len(captured)

    make_run(pipeline)
    one = queries()
    for _ in range(60):
        make_run(pipeline)

    assert queries() == one


@pytest.mark.django_db
def test_pages_numbers_too_large_for_an_id_are_ignored(viewer_client):
    run = make_run()
    huge = "9" * 25

    pipelines = viewer_client.get("/pipelines/", {"connection": huge, "page": huge})
    runs = viewer_client.get("/runs/", {"pipeline": huge, "page": huge})
    deep = viewer_client.get("/runs/", {"page": 10**9})

    assert pipelines.status_code == 200 and f'id="pipeline-{run.pipeline.pk}"' in pipelines.content.decode()
    assert runs.status_code == 200 and f'id="run-{run.pk}"' in runs.content.decode()
    assert deep.status_code == 200 and "No runs on this page" in deep.content.decode()
