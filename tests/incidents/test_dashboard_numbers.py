"""The dashboard's numbers for hand-built data: open incidents by severity and age, the newest open ones, and the
KPIs of a window against the one before."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aimsweb.choices import Severity
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from incidents.pages.dashboard import dashboard_page
from monitors.models import PipelineRun
from tests.incidents.dashboard_helpers import NOW, event, failed, kpis, opened, resolved
from tests.incidents.factories import make_analysis
from tests.monitors.factories import make_pipeline, make_run


def analysed(at: datetime, **fields) -> FailureAnalysis:
    analysis = make_analysis(**fields)
    FailureAnalysis.objects.filter(pk=analysis.pk).update(created_at=at)
    return analysis


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
