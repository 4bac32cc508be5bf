"""The dashboard's windows (24 hours, 7 local days) and its charts: failures per bucket and error class, the top
failing pipelines, and the accessible SVG they render to."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from aimsweb.choices import ErrorCategory
from incidents.pages.dashboard import dashboard_page
from monitors.models import PipelineRun
from tests.incidents.dashboard_helpers import NOW, failed, kpis
from tests.incidents.factories import make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_run


def chart_counts(context: dict) -> dict[str, dict[str, int]]:
    """Non-zero counts of the failures chart: {bucket label: {error class: failures}}."""
    chart = context["failures_chart"]
    return {column.label: {s.series.key: s.value for s in column.segments} for column in chart.columns if column.total}


# --- Windows ------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_window_7d_widens_kpis_and_charts_per_day():
    pipeline = make_pipeline()
    failed(pipeline, NOW - timedelta(hours=2), ErrorCategory.TRANSIENT)
    failed(pipeline, NOW - timedelta(days=3), ErrorCategory.CODE)
    failed(pipeline, NOW - timedelta(days=8))  # previous 7 days

    day = dashboard_page(window="24h", now=NOW)
    week = dashboard_page(window="7d", now=NOW)

    assert kpis("24h")["failures"].value == 1 and kpis("7d")["failures"].value == 2
    assert kpis("7d")["failures"].previous == 1
    assert week["window"] == "7d" and len(week["failures_chart"].columns) == 7
    assert [c.label for c in week["failures_chart"].columns] == [
        "Tue 4",
        "Wed 5",
        "Thu 6",
        "Fri 7",
        "Sat 8",
        "Sun 9",
        "Mon 10",
    ]
    assert chart_counts(week) == {"Fri 7": {"code": 1}, "Mon 10": {"transient": 1}}
    assert chart_counts(day) == {"10:00": {"transient": 1}}


@pytest.mark.django_db
def test_dashboard_window_7d_buckets_are_local_days_across_daylight_saving(settings):
    settings.TIME_ZONE = "America/New_York"  # clocks went forward on Sunday 9 March 2025: a 23-hour day
    pipeline = make_pipeline()
    failed(pipeline, datetime(2025, 3, 9, 4, 30, tzinfo=UTC), ErrorCategory.CODE)  # Saturday 23:30 EST
    failed(pipeline, datetime(2025, 3, 9, 5, 30, tzinfo=UTC), ErrorCategory.CODE)  # Sunday 00:30 EST
    failed(pipeline, datetime(2025, 3, 10, 3, 59, tzinfo=UTC), ErrorCategory.CODE)  # Sunday 23:59 EDT
    failed(pipeline, datetime(2025, 3, 10, 4, 1, tzinfo=UTC), ErrorCategory.CODE)  # Monday 00:01 EDT

    context = dashboard_page(window="7d", now=NOW)  # Monday 08:30 EDT

    assert context["failures_chart"].columns[-1].label == "Mon 10"
    assert chart_counts(context) == {"Sat 8": {"code": 1}, "Sun 9": {"code": 2}, "Mon 10": {"code": 1}}


@pytest.mark.django_db
@pytest.mark.parametrize("bogus", ["", "30d", "<script>", "24H"])
def test_dashboard_window_unknown_falls_back_to_24h(bogus):
    failed(make_pipeline(), NOW - timedelta(days=2))

    context = dashboard_page(window=bogus, now=NOW)

    assert context["window"] == "24h" and len(context["failures_chart"].columns) == 24
    assert {kpi.key: kpi.value for kpi in context["kpis"]}["failures"] == 0


@pytest.mark.django_db
def test_dashboard_page_bogus_window_renders_24h_selected(viewer_client):
    html = viewer_client.get("/?window=bogus").content.decode()

    assert 'ws-connect="/ws/dashboard/?window=24h"' in html
    assert re.search(r'<a href="\?window=24h" aria-current="true"', html)
    assert not re.search(r'<a href="\?window=7d" aria-current', html)


@pytest.mark.django_db
def test_dashboard_page_7d_window_selected_and_socket_follows(viewer_client):
    html = viewer_client.get("/?window=7d").content.decode()

    assert 'ws-connect="/ws/dashboard/?window=7d"' in html
    assert re.search(r'<a href="\?window=7d" aria-current="true"', html)
    assert "last 7 days" in html


# --- Charts -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_failures_chart_counts_per_hour_and_class():
    pipeline = make_pipeline()
    failed(pipeline, NOW.replace(hour=11, minute=10), ErrorCategory.TRANSIENT)
    failed(pipeline, NOW.replace(hour=11, minute=20))  # not analysed yet: unknown
    failed(pipeline, NOW.replace(hour=11, minute=50), ErrorCategory.CODE)
    for minute in (1, 5, 29):
        failed(pipeline, NOW.replace(hour=12, minute=minute), ErrorCategory.TRANSIENT)
    failed(pipeline, NOW - timedelta(hours=23, minutes=10), ErrorCategory.PERMISSION)  # 13:20 yesterday
    failed(pipeline, NOW - timedelta(hours=23, minutes=50), ErrorCategory.PERMISSION)  # 12:40: before the first bar
    make_run(pipeline, status=PipelineRun.Status.SUCCEEDED, started_at=NOW.replace(hour=12, minute=10))

    context = dashboard_page(window="24h", now=NOW)

    chart = context["failures_chart"]
    assert len(chart.columns) == 24
    assert (chart.columns[0].label, chart.columns[-1].label) == ("13:00", "12:00")
    assert chart_counts(context) == {
        "13:00": {"permission": 1},
        "11:00": {"transient": 1, "code": 1, "unknown": 1},
        "12:00": {"transient": 3},
    }
    assert [s.key for s in chart.series] == ["transient", "permission", "code", "unknown"]
    assert chart.total == 7


@pytest.mark.django_db
def test_dashboard_failures_chart_stacks_segments_within_plot():
    pipeline = make_pipeline()
    for category in (ErrorCategory.TRANSIENT, ErrorCategory.TRANSIENT, ErrorCategory.CODE):
        failed(pipeline, NOW - timedelta(minutes=5), category)
    failed(pipeline, NOW - timedelta(hours=2), ErrorCategory.CODE)

    chart = dashboard_page(window="24h", now=NOW)["failures_chart"]

    tallest = chart.columns[-1]
    assert [(s.series.key, s.value) for s in tallest.segments] == [("transient", 2), ("code", 1)]
    lower, upper = tallest.segments
    assert lower.y + lower.height == chart.baseline and upper.y + upper.height == lower.y
    assert upper.y >= min(tick.y for tick in chart.ticks)
    assert chart.columns[-3].segments[0].height == upper.height  # one failure is as tall in every column


@pytest.mark.django_db
def test_dashboard_top_pipelines_ordered_by_failures_then_name_and_capped_at_ten():
    connection_ = make_connection()
    counts = {"bravo": 5, "alpha": 3, "charlie": 3}
    pipelines = {name: make_pipeline(connection_, name=name) for name in counts}
    for name, n in counts.items():
        for minutes in range(n):
            failed(pipelines[name], NOW - timedelta(minutes=minutes + 1))
    for index in range(9):
        failed(make_pipeline(connection_, name=f"zulu-{index}"), NOW - timedelta(hours=1))
    failed(make_pipeline(connection_, name="old"), NOW - timedelta(hours=30))
    failed(make_pipeline(connection_, name="old"[::-1]), NOW - timedelta(hours=30))

    bars = dashboard_page(window="24h", now=NOW)["top_pipelines_chart"].bars

    assert [(bar.label, bar.value) for bar in bars[:4]] == [("bravo", 5), ("alpha", 3), ("charlie", 3), ("zulu-0", 1)]
    assert len(bars) == 10
    assert bars[0].href == f"/pipelines/{pipelines['bravo'].pk}/"
    assert bars[0].bar_width > bars[1].bar_width == bars[2].bar_width > bars[3].bar_width


@pytest.mark.django_db
def test_dashboard_page_charts_accessible_svg_with_numbers(viewer_client):
    pipeline = make_pipeline(name="nightly_sales")
    # Both in one hour's bar whatever the time of the run (a minute past the hour would split them).
    half_past = timezone.now().replace(minute=30, second=0, microsecond=0) - timedelta(hours=1)
    failed(pipeline, half_past, ErrorCategory.TRANSIENT)
    failed(pipeline, half_past - timedelta(minutes=1))

    html = viewer_client.get("/").content.decode()

    chart = re.search(r'<section id="dashboard-failures-chart".*?</section>', html, re.S).group(0)
    assert 'role="img"' in chart and '<title id="dashboard-failures-title">' in chart
    assert 'viewBox="0 0 480 210"' in chart
    assert "2 failed runs in all, by class: Transient, Unknown." in chart
    hidden = re.search(r'<div class="visually-hidden">\s*<table>(.*?)</table>', chart, re.S).group(1)
    assert '<th scope="col">Hour</th><th scope="col">Transient</th><th scope="col">Unknown</th>' in hidden
    assert hidden.count("<tr>") == 25 and "<td>1</td><td>1</td><td>2</td></tr>" in hidden
    assert '<span class="swatch series-transient"></span>Transient' in chart
    top = re.search(r'<section id="dashboard-top-pipelines".*?</section>', html, re.S).group(0)
    assert f'<a href="/pipelines/{pipeline.pk}/" aria-label="nightly_sales: 2 failed runs">' in top


@pytest.mark.django_db
def test_dashboard_page_charts_empty_without_failures(viewer_client):
    html = viewer_client.get("/?window=7d").content.decode()

    assert "<svg" not in html
    assert html.count("No failed runs in the last 7 days.") == 2


@pytest.mark.django_db
def test_dashboard_page_escapes_script_in_svg_labels(viewer_client):
    evil = "<script>alert(1)</script>"
    pipeline = make_pipeline(name=evil)
    run = failed(pipeline, timezone.now() - timedelta(minutes=1), ErrorCategory.TRANSIENT)
    make_incident(run, title=f"{evil} failed")

    html = viewer_client.get("/").content.decode()

    assert "<script>alert" not in html
    top = re.search(r'<section id="dashboard-top-pipelines".*?</section>', html, re.S).group(0)
    assert "<svg" in top and "&lt;script&gt;alert(1)&lt;/script&gt;" in top
    assert "&lt;script&gt;alert(1)&lt;/script&gt; failed</a>" in html
