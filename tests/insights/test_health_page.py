"""The Health page (worst first, components, trend, filters, paging, a fixed number of queries) and the dashboard's
health tiles."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from insights.health import health_score
from insights.models import ExpectedSchedule, Series
from insights.pages.health import health_page, score_band
from tests.contracts.factories import make_contract
from tests.insights.factories import (
    add_points,
    add_runs,
    make_anomaly_incident,
    make_check,
    make_missed_run_incident,
    make_series,
)
from tests.monitors.factories import make_pipeline

NOW = timezone.now()


def runs(pipeline, outcomes: str) -> None:
    add_runs(pipeline, outcomes, now=NOW)


def world():
    """A healthy pipeline, a failing one, one with no runs, and a table whose checks fail half the time."""
    healthy = make_pipeline(name="pl_healthy")
    runs(healthy, "ssssssss")
    failing = make_pipeline(name="pl_failing")
    runs(failing, "sfsfffrs")
    idle = make_pipeline(name="pl_idle")
    contract = make_contract(name="orders")
    for day in range(4):
        make_check(contract, table="orders", failed=day % 2 == 0, fresh=True, at=NOW - timedelta(days=day + 1))
    return healthy, failing, idle, contract


@pytest.mark.django_db
def test_health_page_rows_worst_first_and_unscored_last():
    world()

    rows = health_page(params={}, now=NOW)["rows"]

    names = [row.name for row in rows]
    assert names[-1] == "pl_idle" and rows[-1].score is None and rows[-1].band == "none"
    assert names.index("pl_failing") < names.index("pl_healthy")
    scores = [row.score for row in rows if row.score is not None]
    assert scores == sorted(scores)
    assert rows[names.index("pl_healthy")].score == 100


@pytest.mark.django_db
def test_health_page_score_recomputed_from_shown_components():
    world()

    for row in health_page(params={}, now=NOW)["rows"]:
        components = {c.key: None if c.percent is None else c.percent / 100 for c in row.components}
        # The percentages are rounded for display: the score they give is within a point of the one shown.
        recomputed = health_score(components)
        assert (recomputed is None) == (row.score is None)
        if row.score is not None:
            assert abs(recomputed - row.score) <= 1


@pytest.mark.django_db
def test_health_page_table_scored_on_checks_and_freshness():
    world()

    table = next(row for row in health_page(params={"kind": "table"}, now=NOW)["rows"])

    components = {c.key: c.percent for c in table.components}
    assert table.name == "orders / orders"
    assert components == {"success": None, "contracts": 50, "freshness": 100}
    assert table.score == 75 and table.band == "fair"
    assert table.url.endswith(f"/contracts/{table_contract_id()}/")


def table_contract_id() -> int:
    from contracts.models import DataContract

    return DataContract.objects.get(name="orders").pk


@pytest.mark.django_db
def test_health_page_missed_runs_lower_a_scheduled_pipeline():
    pipeline = make_pipeline(name="pl_nightly")
    runs(pipeline, "sss")  # and the run the incident factory makes
    ExpectedSchedule.objects.create(
        pipeline=pipeline, source=ExpectedSchedule.Source.LEARNED, name="learnt cadence", cron="0 2 * * *", seen_at=NOW
    )
    make_missed_run_incident(pipeline, expected_at=NOW - timedelta(days=1))

    row = health_page(params={"kind": "pipeline"}, now=NOW)["rows"][0]

    components = {c.key: c.percent for c in row.components}
    assert components["missed_runs"] == 80  # 4 runs started, 1 missed
    assert row.open_incidents == 1


@pytest.mark.django_db
def test_health_page_filters_by_kind_band_and_name():
    world()

    assert {r.kind for r in health_page(params={"kind": "pipeline"}, now=NOW)["rows"]} == {"pipeline"}
    assert [r.name for r in health_page(params={"q": "FAIL"}, now=NOW)["rows"]] == ["pl_failing"]
    poor = health_page(params={"band": "poor"}, now=NOW)["rows"]
    assert poor and all(r.band == "poor" for r in poor)
    assert health_page(params={"kind": "nonsense", "band": "awful"}, now=NOW)["filtered"] is False


@pytest.mark.django_db
def test_health_page_series_listed_and_anomaly_incident_counted_on_its_table():
    contract = make_contract(name="orders")
    series = make_series(
        key="table:orders/orders:row_count",
        subject=Series.Subject.TABLE,
        metric=Series.Metric.ROW_COUNT,
        contract=contract,
        table="orders",
    )
    points = add_points(series, [100, 98, 40], anomalous={2})
    make_anomaly_incident(series, points[-1])

    row = next(r for r in health_page(params={"kind": "table"}, now=NOW)["rows"])

    assert [link.series_id for link in row.series] == [series.pk]
    assert row.open_incidents == 1
    assert {c.key: c.percent for c in row.components}["success"] == 67  # 2 of 3 row counts in their band


def test_score_band_thresholds():
    assert [score_band(s) for s in (None, 69, 70, 89, 90, 100)] == ["none", "poor", "fair", "fair", "good", "good"]


@pytest.mark.django_db
def test_health_view_viewer_sees_rows_badges_sparkline_and_formula(viewer_client):
    world()

    response = viewer_client.get("/health/")

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("pl_failing") < html.index("pl_healthy") < html.index("pl_idle")
    assert 'class="score score-good"' in html and "Good" in html
    assert re.search(r'<svg class="spark"[^>]*role="img"[^>]*aria-label="Score each day', html)
    assert "How the score is computed" in html and "Independence from retries" in html
    assert "style=" not in html.split("<main>")[1]


@pytest.mark.django_db
def test_health_view_htmx_answers_results_only(viewer_client):
    world()

    response = viewer_client.get("/health/?kind=table", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="health-results"')
    assert "orders / orders" in html and "pl_healthy" not in html


@pytest.mark.django_db
def test_health_view_without_role_forbidden(no_role_user, client):
    client.force_login(no_role_user)

    assert client.get("/health/").status_code == 403
    assert client.get("/health/tiles/").status_code == 403


@pytest.mark.django_db
def test_health_view_paginates_at_fifty(viewer_client):
    for n in range(51):
        make_pipeline(name=f"pl_{n:02d}")

    first = viewer_client.get("/health/").content.decode()
    second = viewer_client.get("/health/?page=2").content.decode()

    assert first.count('data-testid="health-row"') == 50
    assert second.count('data-testid="health-row"') == 1 and 'rel="prev"' in second


@pytest.mark.django_db
def test_health_view_query_count_does_not_grow_with_data(viewer_client):
    world()
    viewer_client.get("/health/")  # warm the session and content-type caches
    with CaptureQueriesContext(connection) as small:
        viewer_client.get("/health/")
    for n in range(5):
        pipeline = make_pipeline(name=f"pl_more_{n}")
        runs(pipeline, "sfsr")
        ExpectedSchedule.objects.create(
            pipeline=pipeline, source=ExpectedSchedule.Source.LEARNED, name="learnt", cron="0 * * * *", seen_at=NOW
        )
        make_missed_run_incident(pipeline, expected_at=NOW - timedelta(hours=n + 1))
        contract = make_contract(name=f"contract_{n}")
        make_check(contract, table=f"table_{n}", failed=True, fresh=False, at=NOW - timedelta(hours=n))
        series = make_series(subject=Series.Subject.TABLE, metric="row_count", contract=contract, table=f"table_{n}")
        add_points(series, [100, 101, 99])

    with CaptureQueriesContext(connection) as large:
        response = viewer_client.get("/health/")

    assert response.content.decode().count('data-testid="health-row"') == 14
    assert len(large) == len(small), [q["sql"] for q in large.captured_queries]


@pytest.mark.django_db
def test_health_tiles_count_poor_subjects_and_open_anomaly_and_missed_incidents(viewer_client):
    world()
    pipeline = make_pipeline(name="pl_nightly")
    make_missed_run_incident(pipeline, expected_at=NOW - timedelta(hours=3))
    series = make_series(pipeline=pipeline)
    make_anomaly_incident(series, add_points(series, [100, 300], anomalous={1})[-1])

    response = viewer_client.get("/health/tiles/")

    html = response.content.decode()
    assert response.status_code == 200
    poor = health_page(params={"band": "poor"}, now=timezone.now())["page"].paginator.count
    assert re.search(rf'href="/health/\?band=poor">{poor}</a>', html)
    assert re.search(r'data-testid="tile-anomalies">.*?>1</a>', html, re.S)
    assert re.search(r'data-testid="tile-missed">.*?>1</a>', html, re.S)


@pytest.mark.django_db
def test_dashboard_loads_health_tiles_by_htmx(viewer_client):
    html = viewer_client.get("/").content.decode()

    assert 'hx-get="/health/tiles/"' in html and 'hx-trigger="load"' in html


@pytest.mark.django_db
def test_nav_links_the_health_page(viewer_client):
    html = viewer_client.get("/health/").content.decode()

    assert '<a href="/health/" aria-current="page">Health</a>' in html


@pytest.mark.django_db
def test_health_page_scheduled_pipeline_without_runs_has_no_score():
    pipeline = make_pipeline(name="pl_new")
    ExpectedSchedule.objects.create(
        pipeline=pipeline, source=ExpectedSchedule.Source.LEARNED, name="learnt", cron="0 2 * * *", seen_at=NOW
    )

    row = health_page(params={}, now=NOW)["rows"][0]

    assert row.score is None and all(c.percent is None for c in row.components)
