"""The pipelines list: health numbers and run strips per row, filters, sorts, pages, the htmx partial and a fixed
number of queries."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.models import Incident
from monitors.models import Pipeline
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_run
from tests.monitors.pipeline_pages_helpers import S, run_at, strip_cells


def row(html: str, pipeline: Pipeline) -> str:
    match = re.search(rf'<tr id="pipeline-{pipeline.pk}">(.*?)</tr>', html, re.S)
    assert match, f"no row for pipeline {pipeline.pk}"
    return match.group(1)


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
