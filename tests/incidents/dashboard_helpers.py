"""What the dashboard's tests share: a fixed clock, incidents opened and resolved at given times, failed runs, and
the KPIs of a window."""

from datetime import UTC, datetime, timedelta

from aimsweb.choices import Severity
from incidents.models import Incident, IncidentEvent
from incidents.pages.dashboard import dashboard_page
from monitors.models import Pipeline, PipelineRun
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_run

NOW = datetime(2025, 3, 10, 12, 30, tzinfo=UTC)


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


def kpis(window: str = "24h", now: datetime = NOW) -> dict:
    return {kpi.key: kpi for kpi in dashboard_page(window=window, now=now)["kpis"]}
