"""The dashboard: its numbers for hand-built data, its windows, its charts, who may see it, and its query count."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from incidents.pages.dashboard import dashboard_page
from monitors.models import Pipeline, PipelineRun
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_connection, make_pipeline, make_run

NOW = datetime(2025, 3, 10, 12, 30, tzinfo=UTC)
LIVE_IDS = ("dashboard-open", "dashboard-kpis", "dashboard-failures-chart", "dashboard-top-pipelines")


def opened(ago: timedelta, *, severity: str = Severity.HIGH, now: datetime = NOW, **fields) -> Incident:
    at = now - ago
    return make_incident(severity=severity, opened_at=at, first_seen_at=at, last_seen_at=at, **fields)


def event(incident: Incident, kind: str, *, at: datetime, actor_type: str = IncidentEvent.ActorType.SYSTEM) -> None:
    made = IncidentEvent.objects.create(incident=incident, kind=kind, actor_type=actor_type)
    IncidentEvent.objects.filter(pk=made.pk).update(created_at=at)  # created_at is set on insert; move it


def resolved(incident: Incident, *, after: timedelta, kind: str, actor_type: str) -> Incident:
    at = incident.opened_at + after
    Incident.objects.filter(pk=incident.pk).update(status=Incident.Status.RESOLVED, resolved_at=at)
    event(incident, kind, at=at, actor_type=actor_type)
    return incident


def failed(pipeline: Pipeline, at: datetime, category: str | None = None, **fields) -> PipelineRun:
    run = make_run(pipeline, status=PipelineRun.Status.FAILED, started_at=at, ended_at=at, **fields)
    if category is not None:
        make_analysis(run, category=category)
    return run


def analysed(at: datetime, **fields) -> FailureAnalysis:
    analysis = make_analysis(**fields)
    FailureAnalysis.objects.filter(pk=analysis.pk).update(created_at=at)
    return analysis


def kpis(window: str = "24h", now: datetime = NOW) -> dict:
    return {kpi.key: kpi for kpi in dashboard_page(window=window, now=now)["kpis"]}


def chart_counts(context: dict) -> dict[str, dict[str, int]]:
    """Non-zero counts of the failures chart: {bucket label: {error class: failures}}."""
    chart = context["failures_chart"]
    return {column.label: {s.series.key: s.value for s in column.segments} for column in chart.columns if column.total}


def query_count(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


# --- Open incidents -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_open_matrix_counts_by_severity_and_age():
    opened(timedelta(minutes=10), severity=Severity.CRITICAL)
    opened(timedelta(hours=2), severity=Severity.CRITICAL)
    opened(timedelta(minutes=30), severity=Severity.HIGH)
    opened(timedelta(minutes=59), severity=Severity.HIGH, status=Incident.Status.ACKNOWLEDGED)
    opened(timedelta(hours=5), severity=Severity.HIGH)
    opened(timedelta(hours=30), severity=Severity.MEDIUM, status=Incident.Status.SILENCED)
    opened(timedelta(hours=1), severity=Severity.LOW)  # exactly one hour old: the 1–4 h column
    opened(timedelta(hours=24), severity=Severity.LOW)  # exactly a day old: the > 24 h column
    opened(timedelta(minutes=5), severity=Severity.CRITICAL, status=Incident.Status.RESOLVED)

    matrix = dashboard_page(window="24h", now=NOW)["open_matrix"]

    assert matrix.ages == ("< 1 h", "1–4 h", "4–24 h", "> 24 h")
    assert {row.severity: row.counts for row in matrix.rows} == {
        "critical": (1, 1, 0, 0),
        "high": (2, 0, 1, 0),
        "medium": (0, 0, 0, 1),
        "low": (0, 1, 0, 1),
    }
    assert [row.total for row in matrix.rows] == [2, 3, 1, 2] and matrix.total == 8


@pytest.mark.django_db
def test_dashboard_open_matrix_info_row_only_when_info_open():
    assert [row.severity for row in dashboard_page(window="24h", now=NOW)["open_matrix"].rows] == [
        "critical",
        "high",
        "medium",
        "low",
    ]
    opened(timedelta(minutes=3), severity=Severity.INFO)

    rows = dashboard_page(window="24h", now=NOW)["open_matrix"].rows

    assert rows[-1].severity == "info" and rows[-1].counts == (1, 0, 0, 0)


@pytest.mark.django_db
def test_dashboard_page_matrix_counts_link_to_filtered_list(viewer_client):
    opened(timedelta(minutes=10), severity=Severity.CRITICAL, now=timezone.now())
    opened(timedelta(hours=3), severity=Severity.CRITICAL, now=timezone.now())

    html = viewer_client.get("/").content.decode()

    row = re.search(r'<tr class="matrix-critical">(.*?)</tr>', html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    link = '<a href="/incidents/?status=open&amp;severity=critical">'
    assert cells[:2] == [f"{link}1</a>", f"{link}1</a>"]
    assert "<a" not in cells[2] and cells[4] == f"{link}2</a>"


@pytest.mark.django_db
def test_dashboard_recent_open_ten_newest_open_with_pipeline():
    newest = [opened(timedelta(minutes=minutes)) for minutes in range(1, 12)]
    opened(timedelta(seconds=30), status=Incident.Status.RESOLVED)

    recent = dashboard_page(window="24h", now=NOW)["recent_open"]

    assert [row.incident.pk for row in recent] == [incident.pk for incident in newest[:10]]
    assert recent[0].incident.pipeline.name == newest[0].pipeline.name
    assert (recent[0].age, recent[0].age_text) == (timedelta(minutes=1), "1 min")


@pytest.mark.django_db
def test_dashboard_page_recent_open_shows_title_link_pipeline_and_age(viewer_client):
    incident = opened(timedelta(hours=1, minutes=20, seconds=10), severity=Severity.CRITICAL, now=timezone.now())

    html = viewer_client.get("/").content.decode()

    assert f'<a href="/incidents/{incident.pk}/">{incident.title}</a>' in html
    assert f'<a href="/pipelines/{incident.pipeline_id}/">{incident.pipeline.name}</a>' in html
    assert re.search(r'<time datetime="[^"]+" title="Opened [^"]+">1 h 20 min</time>', html)


# --- KPIs ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_dashboard_kpi_failures_counts_failed_runs_started_in_window_and_before():
    pipeline = make_pipeline()
    for hours in (1, 5, 23.9):
        failed(pipeline, NOW - timedelta(hours=hours))
    failed(pipeline, NOW - timedelta(hours=30))  # previous window
    failed(pipeline, NOW - timedelta(hours=50))  # before both
    make_run(pipeline, status=PipelineRun.Status.SUCCEEDED, started_at=NOW - timedelta(hours=1))

    failures = kpis()["failures"]

    assert (failures.value, failures.previous, failures.display) == (3, 1, "3")
    assert failures.trend == "up" and failures.improved is False


@pytest.mark.django_db
def test_dashboard_kpi_incidents_opened_in_window():
    for hours in (1, 20):
        opened(timedelta(hours=hours))
    opened(timedelta(hours=26), status=Incident.Status.RESOLVED)
    opened(timedelta(days=3))

    result = kpis()["opened"]

    assert (result.value, result.previous) == (2, 1)


@pytest.mark.django_db
def test_dashboard_kpi_mtta_mean_over_acknowledged_in_window():
    for minutes, ago in ((4, 3), (6, 10)):
        incident = opened(timedelta(hours=ago), status=Incident.Status.ACKNOWLEDGED)
        Incident.objects.filter(pk=incident.pk).update(acknowledged_at=incident.opened_at + timedelta(minutes=minutes))
    earlier = opened(timedelta(hours=40), status=Incident.Status.ACKNOWLEDGED)
    Incident.objects.filter(pk=earlier.pk).update(acknowledged_at=earlier.opened_at + timedelta(minutes=80))

    mtta = kpis()["mtta"]

    assert mtta.value == timedelta(minutes=5) and mtta.display == "5 min"
    assert mtta.previous == timedelta(minutes=80) and mtta.previous_display == "1 h 20 min"
    assert mtta.improved is True


@pytest.mark.django_db
def test_dashboard_kpi_mttr_mean_over_resolved_in_window_and_dash_when_none():
    assert kpis()["mttr"].display == "—"
    for minutes in (10, 20, 30, 60):
        resolved(
            opened(timedelta(hours=6)),
            after=timedelta(minutes=minutes),
            kind=IncidentEvent.Kind.RESOLVED,
            actor_type=IncidentEvent.ActorType.USER,
        )

    mttr = kpis()["mttr"]

    assert mttr.value == timedelta(minutes=30) and mttr.display == "30 min"
    assert mttr.previous is None and mttr.previous_display == "—" and mttr.trend == ""


@pytest.mark.django_db
def test_dashboard_kpi_auto_recovery_three_of_four_is_75_percent():
    auto, by_hand = IncidentEvent.Kind.AUTO_RESOLVED, IncidentEvent.Kind.RESOLVED
    retry_engine, system, user = (
        IncidentEvent.ActorType.RETRY_ENGINE,
        IncidentEvent.ActorType.SYSTEM,
        IncidentEvent.ActorType.USER,
    )
    resolved(opened(timedelta(hours=3)), after=timedelta(minutes=5), kind=auto, actor_type=retry_engine)
    resolved(opened(timedelta(hours=4)), after=timedelta(minutes=9), kind=auto, actor_type=retry_engine)
    resolved(opened(timedelta(hours=5)), after=timedelta(minutes=30), kind=auto, actor_type=system)
    # Recovered automatically once, then reopened and resolved by a person: its resolution is the person's.
    reopened = opened(timedelta(hours=8))
    event(reopened, auto, at=reopened.opened_at + timedelta(minutes=2), actor_type=retry_engine)
    resolved(reopened, after=timedelta(hours=1), kind=by_hand, actor_type=user)
    # Resolved by a person in the previous window.
    resolved(opened(timedelta(hours=30)), after=timedelta(minutes=10), kind=by_hand, actor_type=user)

    rate = kpis()["auto_recovery"]

    assert rate.value == 0.75 and rate.display == "75 %"
    assert rate.detail == "3 of 4 resolved without a person"
    assert (rate.previous, rate.previous_display) == (0.0, "0 %")
    assert rate.trend == "up" and rate.improved is True


@pytest.mark.django_db
def test_dashboard_kpi_auto_recovery_dash_when_none_resolved():
    opened(timedelta(hours=1))

    rate = kpis()["auto_recovery"]

    assert rate.value is None and rate.display == "—"


@pytest.mark.django_db
def test_dashboard_kpi_llm_cost_sums_window_and_counts_calls_without_cache_hits():
    llm = FailureAnalysis.Analyzer.LLM
    analysed(NOW - timedelta(hours=1), analyzer=llm, cost_usd=Decimal("0.12"))
    analysed(NOW - timedelta(hours=2), analyzer=llm, cost_usd=Decimal("0.03"))
    analysed(NOW - timedelta(hours=3), analyzer=llm, cache_hit=True)
    analysed(NOW - timedelta(hours=4), analyzer=FailureAnalysis.Analyzer.OFFLINE)
    analysed(NOW - timedelta(hours=30), analyzer=llm, cost_usd=Decimal("0.50"))
    analysed(NOW - timedelta(days=5), analyzer=llm, cost_usd=Decimal("9"))

    cost = kpis()["llm_cost"]

    assert cost.value == Decimal("0.15") and cost.display == "$0.15"
    assert cost.detail == "2 calls"
    assert cost.previous == Decimal("0.50") and cost.previous_display == "$0.50"


@pytest.mark.django_db
def test_dashboard_kpi_llm_cost_zero_when_no_analyses():
    cost = kpis()["llm_cost"]

    assert (cost.value, cost.display, cost.detail) == (Decimal(0), "$0.00", "0 calls")


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

    assert large == small == 10
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
