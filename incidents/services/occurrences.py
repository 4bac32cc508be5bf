"""Occurrences: the one intake for anything that should page a person. A source (failed runs, contract checks,
anomalies, the API) reports what happened as an OccurrenceReport; the intake counts it once, groups it by
fingerprint into the open incident (or reopens the one resolved within the reopen window, or opens one), puts it on
the timeline, pages whoever the routes name and tells the live pages. A source that sees the problem gone reports
that too (occurrences_recovered), and the same path resolves the incident."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.headline import headline_cut
from aimsweb.redact import redact, redact_values
from incidents.models import Incident, IncidentEvent, Notification, Occurrence
from incidents.realtime import incidents_changed_broadcast
from incidents.services.events import SYSTEM, Actor, incident_event_add
from incidents.services.incidents import incident_resolve_locked
from incidents.services.notifications import incident_notify
from incidents.services.storms import fingerprint_of, part_count
from monitors.models import Pipeline

# Least urgent first: every severity of the one vocabulary the analysis schema (and so the LLM) answers with, so the
# mapping below is total over the schema by construction. Incidents use the part from LOW up: something that pages a
# person is never merely informational, so an `info` occurrence pages as low.
SEVERITY_ORDER = Severity.ordered()
INCIDENT_SEVERITIES = SEVERITY_ORDER[SEVERITY_ORDER.index(Severity.LOW) :]
CRITICALITY_SHIFT: dict[str, int] = {
    Pipeline.Criticality.CRITICAL: 1,
    Pipeline.Criticality.HIGH: 0,
    Pipeline.Criticality.NORMAL: 0,
    Pipeline.Criticality.LOW: -1,
}


class Change(StrEnum):
    OPENED = "opened"
    REOPENED = "reopened"
    OCCURRED = "occurred"


# --- Sources ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OccurrenceSource:
    name: str
    label: str


_sources: dict[str, OccurrenceSource] = {}


def occurrence_source_register(*, name: str, label: str) -> OccurrenceSource:
    """Declare a source of occurrences (an app does it once, at import); reports from undeclared sources are refused."""
    source = OccurrenceSource(name=name, label=label)
    _sources[name] = source
    return source


for _value, _label in Occurrence.Source.choices:
    occurrence_source_register(name=_value, label=_label)


@dataclass(frozen=True)
class OccurrenceReport:
    """What a source reports. `group_key` groups occurrences into one incident (hashed into the fingerprint; begin
    it with something that names the source's kind of problem); `dedup_key` makes a repeated report count once."""

    source: str
    group_key: str
    dedup_key: str
    title: str
    severity: str
    category: str
    subject: str
    subject_label: str
    detected_at: datetime
    evidence: dict = field(default_factory=dict)
    connection_id: int | None = None
    pipeline_id: int | None = None
    run_id: int | None = None
    analysis_id: int | None = None
    # The pipeline's criticality when the source has it at hand (saves the intake reading it).
    pipeline_criticality: str | None = None

    def problems(self) -> dict[str, str]:
        """What makes the report unusable, by field (empty: it may be taken in)."""
        problems = {}
        if self.source not in _sources:
            problems["source"] = f"Unknown source {self.source!r}; registered: {', '.join(sorted(_sources))}."
        for name in ("group_key", "dedup_key", "title", "subject", "subject_label"):
            if not str(getattr(self, name)).strip():
                problems[name] = "Must not be blank."
        if self.category not in ErrorCategory.values:
            problems["category"] = f"Unknown category {self.category!r}; use one of {', '.join(ErrorCategory.values)}."
        if not isinstance(self.evidence, dict):
            problems["evidence"] = "Give the evidence as an object."
        if timezone.is_naive(self.detected_at):
            problems["detected_at"] = "Give a time with its time zone."
        return problems


@dataclass(frozen=True)
class Intake:
    incident: Incident
    change: Change | None  # None: the occurrence had been counted already (a repeated report)
    occurrence: Occurrence


# --- Severity -----------------------------------------------------------------------------------------------------


def _severity(value: str) -> Severity:
    """A stored or answered severity; one outside the vocabulary (an old row, a hand edit) counts as medium rather
    than fail the transaction that counts an occurrence."""
    try:
        return Severity(value)
    except ValueError:
        return Severity.MEDIUM


def severity_for(*, analysis_severity: str, criticality: str) -> str:
    """A reported severity moved by the pipeline's criticality (critical pipelines one step up, low one down), on
    the incident scale (never below low; at least medium on high-criticality pipelines). Total: any string in, an
    incident severity out."""
    index = SEVERITY_ORDER.index(_severity(analysis_severity)) + CRITICALITY_SHIFT.get(criticality, 0)
    floor = Severity.MEDIUM if criticality == Pipeline.Criticality.HIGH else INCIDENT_SEVERITIES[0]
    return SEVERITY_ORDER[min(max(index, SEVERITY_ORDER.index(floor)), len(SEVERITY_ORDER) - 1)]


def _more_severe(first: str, second: str) -> str:
    return max(_severity(first), _severity(second), key=SEVERITY_ORDER.index)


# --- Intake -------------------------------------------------------------------------------------------------------


def occurrence_intake(
    *, report: OccurrenceReport, before_page: Callable[[Incident, Occurrence, Change], bool] | None = None
) -> Intake:
    """Count a reported occurrence once (by its dedup key) in its incident, opening or reopening one as needed, with
    its timeline entry; then let the source act on it (`before_page`, e.g. the retry policy for a failed run: it
    returns whether a rerun is on its way) and page the routes when the incident is new or back. Call inside a
    transaction, or it runs in one of its own. Raises ValidationError naming the field for an unusable report."""
    problems = report.problems()
    if problems:
        raise ValidationError(problems)
    # Nested in the caller's transaction without a savepoint of its own: an error here undoes the caller's work too.
    with transaction.atomic(savepoint=False):
        row = _row(report)
        found = _incident_find(row["fingerprint"])
        open_id = found.pk if found is not None and found.status != Incident.Status.RESOLVED else None
        occurrence, created = _occurrence_insert(row, incident_id=open_id)
        if not created and occurrence.incident_id is not None:  # a repeated report, counted already
            return Intake(incident=Incident.objects.get(pk=occurrence.incident_id), change=None, occurrence=occurrence)
        incident, change = _open_or_update(occurrence, found=found)
        if occurrence.incident_id != incident.pk:
            Occurrence.objects.filter(pk=occurrence.pk).update(incident=incident)
            occurrence.incident = incident
        part_count(incident=incident, occurrence=occurrence, now=incident.last_seen_at)
        retrying = before_page(incident, occurrence, change) if before_page is not None else False
        if change in (Change.OPENED, Change.REOPENED):
            event = Notification.Event.OPENED if change == Change.OPENED else Notification.Event.REOPENED
            incident_notify(incident=incident, event=event, retrying=retrying)
        incidents_changed_broadcast(incident_ids=[incident.pk])
    return Intake(incident=incident, change=change, occurrence=occurrence)


def _occurrence_insert(row: dict, *, incident_id: int | None) -> tuple[Occurrence, bool]:
    """The occurrence of `row`, inserted (linked to the open incident of its fingerprint, when there is one), and
    True; or, when its dedup key was reported before, that earlier one, locked, and False."""
    occurrence = Occurrence(**row, incident_id=incident_id)
    try:
        with transaction.atomic():
            occurrence.save(force_insert=True)
    except IntegrityError:
        return Occurrence.objects.select_for_update(of=("self",)).get(dedup_key=occurrence.dedup_key), False
    return occurrence, True


def _incident_find(fingerprint: str) -> Incident | None:
    """The open incident of the fingerprint or, when there is none, the latest one resolved within the reopen
    window; locked (one read)."""
    locked = Incident.objects.select_for_update(of=("self",)).filter(fingerprint=fingerprint)
    # The usual case (a repeat of an open problem) in the simplest query; a fingerprint has one open incident at most.
    found = locked.exclude(status=Incident.Status.RESOLVED).first()
    if found is not None:
        return found
    window = timezone.now() - timedelta(minutes=settings.AIMS_INCIDENT_REOPEN_MINUTES)
    return locked.filter(resolved_at__gte=window).order_by("-resolved_at").first()


def _row(report: OccurrenceReport) -> dict:
    severity: str = _severity(report.severity)
    if report.pipeline_id is not None:
        criticality = report.pipeline_criticality
        if criticality is None:
            pipelines = Pipeline.objects.filter(pk=report.pipeline_id)
            criticality = pipelines.values_list("criticality", flat=True).first()
        severity = severity_for(analysis_severity=severity, criticality=criticality or "")
    return {
        "source": report.source,
        "dedup_key": report.dedup_key,
        "fingerprint": fingerprint_of(report.group_key),
        "title": headline_cut(redact(report.title)),  # one line of at most HEADLINE_MAX, whatever the source
        "severity": severity,
        "category": report.category,
        "connection_id": report.connection_id,
        "pipeline_id": report.pipeline_id,
        "subject": report.subject[:200],
        "subject_label": redact(report.subject_label)[:200],
        "run_id": report.run_id,
        "analysis_id": report.analysis_id,
        "evidence": redact_values(report.evidence),
        "detected_at": report.detected_at,
    }


def _open_or_update(occurrence: Occurrence, *, found: Incident | None) -> tuple[Incident, Change]:
    """Count an occurrence in the open incident of its fingerprint (`found`, as _incident_find read it), else reopen
    the one resolved within the reopen window, else open a new one; with its timeline event. The partial unique
    index on open fingerprints decides races: a loser of a concurrent open reads again and counts it there."""
    fingerprint = occurrence.fingerprint
    now = timezone.now()
    about = {"occurrence_id": occurrence.pk, "subject": occurrence.subject, "subject_label": occurrence.subject_label}
    for attempt in range(5):
        if attempt:
            found = _incident_find(fingerprint)
        incident = found if found is not None and found.status != Incident.Status.RESOLVED else None
        if incident is not None:
            # The row is locked: what is written here is what it holds until the transaction ends.
            incident.occurrence_count += 1
            incident.last_seen_at = now
            _take_latest(incident, occurrence)
            incident.severity = _more_severe(incident.severity, occurrence.severity)
            incident.save(
                update_fields=[
                    "occurrence_count",
                    "last_seen_at",
                    "latest_occurrence",
                    "latest_run",
                    "analysis",
                    "severity",
                    "updated_at",
                ]
            )
            incident_event_add(
                incident=incident,
                kind=IncidentEvent.Kind.OCCURRED,
                params={**about, "count": incident.occurrence_count},
            )
            return incident, Change.OCCURRED
        recent = found
        resolved_before = recent.resolved_at if recent is not None else None
        try:
            with transaction.atomic():
                if recent is not None:
                    incident, change = _reopen(recent, occurrence, now=now), Change.REOPENED
                else:
                    incident = Incident(
                        fingerprint=fingerprint,
                        source=occurrence.source,
                        title=occurrence.title,
                        severity=occurrence.severity,
                        category=occurrence.category,
                        connection_id=occurrence.connection_id,
                        pipeline_id=occurrence.pipeline_id,
                        first_seen_at=now,
                        last_seen_at=now,
                        opened_at=now,
                    )
                    _take_latest(incident, occurrence)
                    incident.save()
                    change = Change.OPENED
        except IntegrityError:
            continue  # another worker opened this fingerprint a moment ago: count this occurrence in it
        if change == Change.OPENED:
            kind, params = IncidentEvent.Kind.OPENED, {**about, "category": occurrence.category}
        else:
            resolved_at = resolved_before.isoformat() if resolved_before else None
            kind, params = IncidentEvent.Kind.REOPENED, {**about, "resolved_at": resolved_at}
        incident_event_add(incident=incident, kind=kind, params=params)
        return incident, change
    raise IntegrityError(f"could not open or update the incident of fingerprint {fingerprint}")


def _take_latest(incident: Incident, occurrence: Occurrence) -> None:
    incident.latest_occurrence = occurrence
    incident.latest_run_id, incident.analysis_id = occurrence.run_id, occurrence.analysis_id


def _reopen(incident: Incident, occurrence: Occurrence, *, now: datetime) -> Incident:
    incident.status = Incident.Status.TRIGGERED
    incident.generation += 1
    incident.occurrence_count += 1
    incident.opened_at = incident.last_seen_at = now
    incident.acknowledged_at = incident.resolved_at = incident.paged_at = incident.silenced_until = None
    incident.severity = occurrence.severity
    _take_latest(incident, occurrence)
    incident.save()
    return incident


# --- Recovery -----------------------------------------------------------------------------------------------------


def incident_recover(
    *, incident_id: int, recovered_at: datetime, subject_label: str, allowed: Callable[[Incident], bool] | None = None
) -> bool:
    """Resolve an open incident because its problem is seen gone (`subject_label` says where, e.g. a later run
    that succeeded) at `recovered_at`, unless its latest occurrence came after that, or `allowed` says no (e.g. the
    retry policy's auto-resolve is off). Returns whether it was resolved now."""
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("pipeline", "connection", "latest_occurrence")
            .get(pk=incident_id)
        )
        latest = incident.latest_occurrence
        if incident.status == Incident.Status.RESOLVED or latest is None or latest.detected_at >= recovered_at:
            return False
        if allowed is not None and not allowed(incident):
            return False
        return incident_resolve_locked(
            incident,
            actor=SYSTEM,
            kind=IncidentEvent.Kind.AUTO_RESOLVED,
            params={"subject_label": subject_label},
        )


def occurrences_recovered(*, group_key: str, recovered_at: datetime, subject_label: str) -> bool:
    """A source sees the problem of `group_key` gone: resolve its open incident through incident_recover."""
    incident_id = (
        Incident.objects.filter(fingerprint=fingerprint_of(group_key))
        .exclude(status=Incident.Status.RESOLVED)
        .values_list("pk", flat=True)
        .first()
    )
    if incident_id is None:
        return False
    return incident_recover(incident_id=incident_id, recovered_at=recovered_at, subject_label=subject_label)


__all__ = ["Actor", "fingerprint_of"]  # re-exported for sources (an actor of their own, their fingerprints)
