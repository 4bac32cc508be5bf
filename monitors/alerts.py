"""Azure Monitor alerts: whether one is about a connection's factory, and which failed runs it needs looked up.

An alert names no run. What it does name (the resources it targets, the metric or log search that fired, its
dimensions and window) says which factory, which pipelines and which minutes to read; the lookup itself is one
filtered query per batch of alerts, no further back than earlier lookups of the same pipelines have read.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from monitors.clients.base import RunRecord, call_twice
from monitors.models import Connection, Pipeline, PipelineRun, WebhookDelivery
from monitors.webhooks import AzureMonitorAlert

COVERED = "nothing to look up: a lookup of its pipelines begun after it arrived covered its window"
ALERT_WINDOW_SLACK = timedelta(minutes=2)  # around the alert's own window: clocks and late run updates
FACTORY_TYPE = "microsoft.datafactory/factories"
WORKSPACE_TYPE = "microsoft.operationalinsights/workspaces"
# An ARM resource id, lower-cased: subscription, resource group, provider/type and name of the top-level resource.
ARM_ID = re.compile(r"^/subscriptions/([^/]+)/resourcegroups/([^/]+)/providers/([^/]+/[^/]+)/([^/]+)")
# A log search over what a factory sends to Log Analytics: the resource-specific tables, or AzureDiagnostics rows
# from the Data Factory provider.
FACTORY_LOGS = re.compile(r"\bADF(?:Pipeline|Activity|Trigger)Run\b|\bMICROSOFT\.DATAFACTORY\b", re.IGNORECASE)
RESOURCE_DIMENSIONS = {"_resourceid", "resourceid"}


# --- Routing: is the alert about this factory? ---------------------------------------------------------------------


def factory_resource_id(connection: Connection) -> str:
    """The ARM id of the connection's factory, lower-cased as alerts write it."""
    return (
        f"/subscriptions/{connection.subscription_id}/resourcegroups/{connection.resource_group}"
        f"/providers/{FACTORY_TYPE}/{connection.factory_name}"
    ).lower()


def alert_target_problem(alert: AzureMonitorAlert, connection: Connection) -> str:
    """Why a fired alert is not about the connection's factory, or "" when it is: an action group may be shared
    by alerts about VMs, storage accounts or other factories, and looking those up would read this factory for
    nothing. Resource ids compare case-insensitively. An alert that targets this factory is about it; one that
    names another factory (as target, resource dimension or configuration item) is not; a log search over
    factory logs targets the Log Analytics workspace they are kept in, and is about the factory unless it names
    another one. An
    alert that targets nothing is taken as about the factory whose URL it was sent to, unless its resource type or
    metric namespace is another's, or it carries neither a metric nor a log search (a budget alert)."""
    factory = factory_resource_id(connection)
    named = _factory_ids(alert)
    if factory in named:
        return ""
    not_this = f"not factory {connection.factory_name}"
    others = sorted(named - {factory})
    if others:
        return f"alert is about {others[0]}, {not_this}"
    essentials, context = alert.data.essentials, alert.context
    targets = [target.strip() for target in essentials.alertTargetIDs or [] if target.strip()]
    queries = [context.SearchQuery or "", *(criterion.searchQuery or "" for criterion in context.criteria)]
    if targets:
        kept_in_workspaces = all(_resource_type(target) == WORKSPACE_TYPE for target in targets)
        if kept_in_workspaces and any(FACTORY_LOGS.search(query) for query in queries):
            return ""
        return f"alert is about {targets[0]}, {not_this}"
    types = [essentials.targetResourceType, *(criterion.metricNamespace for criterion in context.criteria)]
    foreign = [kind for kind in types if kind and kind.lower() != FACTORY_TYPE]
    if foreign:
        return f"alert is about a {foreign[0]} resource, {not_this}"
    if not (any(queries) or any(criterion.metricName for criterion in context.criteria)):
        what = next(iter(essentials.configurationItems or []), "") or essentials.monitoringService or "no resource"
        return f"alert is about {what}, {not_this}"
    return ""


def _resource_type(resource_id: str) -> str:
    match = ARM_ID.match(resource_id.strip().lower())
    return match.group(3) if match else ""


def _factory_ids(alert: AzureMonitorAlert) -> set[str]:
    """The factories an alert names anywhere, as lower-cased ARM ids cut at the factory (a pipeline's id names
    its factory)."""
    essentials, context = alert.data.essentials, alert.context
    dimensions = [*(context.Dimensions or []), *(d for c in context.criteria for d in c.dimensions or [])]
    candidates = [
        *(essentials.alertTargetIDs or []),
        *(essentials.configurationItems or []),
        *(context.AffectedConfigurationItems or []),
        *(d.value or "" for d in dimensions if d.name.lower() in RESOURCE_DIMENSIONS),
    ]
    found = set()
    for candidate in candidates:
        match = ARM_ID.match(candidate.strip().lower())
        if match and match.group(3) == FACTORY_TYPE:
            subscription, group, kind, name = match.groups()
            found.add(f"/subscriptions/{subscription}/resourcegroups/{group}/providers/{kind}/{name}")
    return found


# --- Coverage: what earlier lookups have read ----------------------------------------------------------------------


@dataclass(frozen=True)
class AlertCoverage:
    """What the alert lookups of one pipeline have covered (stored in Pipeline.alert_lookup): every failed run
    updated between `start` and `end` that existed when the lookup began (`at`, AIMS time) was found; `seen` is the
    newest update time among them. start, end and seen are platform times."""

    at: datetime
    start: datetime
    end: datetime
    seen: datetime | None

    @classmethod
    def of(cls, data: dict) -> "AlertCoverage | None":
        try:
            return cls(
                at=datetime.fromisoformat(data["at"]),
                start=datetime.fromisoformat(data["start"]),
                end=datetime.fromisoformat(data["end"]),
                seen=datetime.fromisoformat(data["seen"]) if data.get("seen") else None,
            )
        except (KeyError, TypeError, ValueError):
            return None

    def as_json(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "seen": self.seen.isoformat() if self.seen else None,
        }


def alert_lookup_start(
    coverage: AlertCoverage | None, *, since: datetime, until: datetime, received: datetime
) -> datetime | None:
    """Where a pipeline's lookup for an alert window (since..until) must begin, or None when none is needed.

    None when a lookup that began after the alert arrived covered the whole window: the failure behind the alert
    existed then, so it was found (a burst of alerts costs one lookup). Otherwise only what is newer than the last
    failure already seen, less AIMS_ALERT_LOOKUP_OVERLAP_SECONDS for runs the service lists late: a run that ends
    later is updated later. Runs missed all the same are read by the next poll."""
    if coverage is None or coverage.start > since:
        return since
    if coverage.at >= received and coverage.end >= until:
        return None
    if coverage.seen is None:
        return since
    start = max(since, coverage.seen - timedelta(seconds=settings.AIMS_ALERT_LOOKUP_OVERLAP_SECONDS))
    return start if start <= until else None


def alert_coverage_merge(
    old: AlertCoverage | None, *, at: datetime, start: datetime, end: datetime, seen: datetime | None
) -> AlertCoverage:
    """The coverage after a lookup of start..end that began at `at`: joined to the old one when the two touch (the
    lookup began no later than the newest failure the old one saw), else the lookup's own."""
    if old is not None and old.start <= start and old.seen is not None and start <= old.seen:
        newest = max(old.seen, seen) if seen else old.seen
        return AlertCoverage(at=at, start=old.start, end=max(old.end, end), seen=newest)
    return AlertCoverage(at=at, start=start, end=end, seen=seen)


# --- Lookups --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertLookup:
    records: list[RunRecord]
    names: set[str]  # the pipelines looked up (none: all of the factory's)
    at: datetime
    start: datetime
    end: datetime


class FiredAlert(Protocol):
    """What a lookup reads of a fired alert (an AzureMonitorAlert, or an ADF callback without a run id in the same
    shape): the pipelines it names and the window it fired for."""

    @property
    def pipeline_names(self) -> set[str]: ...

    @property
    def window(self) -> tuple[datetime, datetime]: ...


@dataclass(frozen=True)
class AlertNeed:
    """What one alert needs read: its pipelines (none named: all of them) updated from `since` to `until`."""

    names: frozenset[str]
    since: datetime
    until: datetime

    def matches(self, record: RunRecord) -> bool:
        updated = record.updated_at
        in_window = updated is None or self.since <= updated <= self.until
        return in_window and (not self.names or record.pipeline_external_id in self.names)


def alert_needs(
    connection: Connection, alerts: list[tuple[WebhookDelivery, FiredAlert]]
) -> dict[int, AlertNeed | None]:
    """Per delivery, what its alert needs read, or None when earlier lookups have covered it (alert_lookup_start):
    only as far back as no earlier lookup of its pipelines has read (one query for the whole batch)."""
    named = set().union(*(alert.pipeline_names for _, alert in alerts))
    coverage = {
        external_id: AlertCoverage.of(state)
        for external_id, state in Pipeline.objects.filter(connection=connection, external_id__in=named).values_list(
            "external_id", "alert_lookup"
        )
    }
    needs: dict[int, AlertNeed | None] = {}
    for delivery, alert in alerts:
        window_start, window_end = alert.window
        since, until = window_start - ALERT_WINDOW_SLACK, window_end + ALERT_WINDOW_SLACK
        names = alert.pipeline_names
        starts = {
            name: alert_lookup_start(coverage.get(name), since=since, until=until, received=delivery.created_at)
            for name in names
        }
        needed = {name: start for name, start in starts.items() if start is not None}
        if names and not needed:
            needs[delivery.pk] = None
        else:
            begin = min(needed.values()) if names else since
            needs[delivery.pk] = AlertNeed(names=frozenset(needed), since=begin, until=until)
    return needs


def alerts_lookup(client, needs: list[AlertNeed]) -> AlertLookup:
    """The failed runs behind a batch's alerts in one lookup, filtered by the service (status Failed, the alerted
    pipelines, updated from the earliest need to the latest): a burst of alerts about a factory costs one."""
    began = timezone.now()
    names = set() if any(not need.names for need in needs) else set().union(*(need.names for need in needs))
    start, end = min(need.since for need in needs), max(need.until for need in needs)
    found, token = [], None
    while True:
        lookup = partial(client.failed_runs_page, since=start, until=end, pipeline_names=names, page_token=token)
        page = call_twice(lookup)
        found += [r for r in page.runs if r.status == PipelineRun.Status.FAILED]
        token = page.next_token
        if not token:
            break
    return AlertLookup(records=found, names=names, at=began, start=start, end=end)


def alert_coverage_record(connection: Connection, lookup: AlertLookup) -> None:
    """Record, once its runs are stored, what a lookup covered for each pipeline it named."""
    seen: dict[str, datetime] = {}
    for record in lookup.records:
        if record.updated_at is not None:
            name = record.pipeline_external_id
            seen[name] = max(seen.get(name, record.updated_at), record.updated_at)
    with transaction.atomic():
        pipelines = Pipeline.objects.select_for_update().filter(connection=connection, external_id__in=lookup.names)
        for pipeline in pipelines.order_by("pk"):
            merged = alert_coverage_merge(
                AlertCoverage.of(pipeline.alert_lookup),
                at=lookup.at,
                start=lookup.start,
                end=lookup.end,
                seen=seen.get(pipeline.external_id),
            )
            Pipeline.objects.filter(pk=pipeline.pk).update(alert_lookup=merged.as_json())
