"""Incidents: open-or-update from a failure, and the lifecycle people (and the engines) drive, each change a
timeline event, announced after commit."""

import hashlib
from collections import Counter
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from aimsweb.choices import Severity
from aimsweb.redact import redact
from incidents.models import FailureAnalysis, Incident, IncidentEvent, TicketLink
from incidents.realtime import incidents_changed_broadcast
from incidents.services.events import RETRY_ENGINE, SYSTEM, Actor, incident_event_add
from incidents.services.notifications import incident_notify
from monitors.models import Pipeline, PipelineRun
from remediation.services import Skip, retry_attempts_cancel

# Least urgent first: every severity of the one vocabulary the analysis schema (and so the LLM) answers with, so the
# mapping below is total over the schema by construction. Incidents use the part from LOW up: a failed run is never
# merely informational, so an `info` verdict pages as low.
SEVERITY_ORDER = sorted(Severity, key=lambda severity: severity.rank, reverse=True)
INCIDENT_SEVERITIES = SEVERITY_ORDER[SEVERITY_ORDER.index(Severity.LOW) :]
CRITICALITY_SHIFT = {
    Pipeline.Criticality.CRITICAL: 1,
    Pipeline.Criticality.HIGH: 0,
    Pipeline.Criticality.NORMAL: 0,
    Pipeline.Criticality.LOW: -1,
}
MAX_SILENCE = timedelta(days=30)
MAX_COMMENT = 5000


class Change(StrEnum):
    OPENED = "opened"
    REOPENED = "reopened"
    OCCURRED = "occurred"


def incident_fingerprint(*, run: PipelineRun, analysis: FailureAnalysis) -> str:
    """connection × pipeline × signature, or pipeline × error class when AIMS_INCIDENT_GROUPING is "category"."""
    if settings.AIMS_INCIDENT_GROUPING == "category":
        key = f"category:{run.pipeline_id}:{analysis.category}"
    else:
        key = f"signature:{run.connection_id}:{run.pipeline_id}:{analysis.signature}"
    return hashlib.sha256(key.encode()).hexdigest()


def _severity(value: str) -> Severity:
    """A stored or answered severity; one outside the vocabulary (an old row, a hand edit) counts as medium rather
    than fail the transaction that counts a failure."""
    try:
        return Severity(value)
    except ValueError:
        return Severity.MEDIUM


def severity_for(*, analysis_severity: str, criticality: str) -> str:
    """The analysis's severity moved by the pipeline's criticality (critical pipelines one step up, low one down),
    on the incident scale (never below low; at least medium on high-criticality pipelines). Total: any string in,
    an incident severity out."""
    index = SEVERITY_ORDER.index(_severity(analysis_severity)) + CRITICALITY_SHIFT.get(criticality, 0)
    floor = Severity.MEDIUM if criticality == Pipeline.Criticality.HIGH else INCIDENT_SEVERITIES[0]
    return SEVERITY_ORDER[min(max(index, SEVERITY_ORDER.index(floor)), len(SEVERITY_ORDER) - 1)]


def _title(run: PipelineRun, analysis: FailureAnalysis) -> str:
    headline = (run.error_message or analysis.summary).strip().splitlines()[0] if run.error_message else ""
    headline = redact(headline or analysis.summary)
    step = f" / {run.failed_step}" if run.failed_step else ""
    return f"{run.pipeline.name}{step}: {headline}"[:300]


def _more_severe(first: str, second: str) -> str:
    return max(_severity(first), _severity(second), key=SEVERITY_ORDER.index)


def incident_open_or_update(*, run: PipelineRun, analysis: FailureAnalysis) -> tuple[Incident, Change]:
    """Count a failure in the open incident of its fingerprint, else reopen the one resolved within the reopen
    window, else open a new one; with its timeline event. The partial unique index on open fingerprints decides
    races: a loser of a concurrent open retries as an occurrence. Call inside a transaction."""
    fingerprint = incident_fingerprint(run=run, analysis=analysis)
    severity = severity_for(analysis_severity=analysis.severity, criticality=run.pipeline.criticality)
    now = timezone.now()
    details = {"run_id": run.pk, "external_run_id": run.external_run_id, "analysis_id": analysis.pk}
    window = now - timedelta(minutes=settings.AIMS_INCIDENT_REOPEN_MINUTES)
    for _ in range(5):
        # One read locks the open incident of the fingerprint or, when there is none, the latest one resolved
        # within the reopen window.
        resolved = Case(When(status=Incident.Status.RESOLVED, then=Value(1)), default=Value(0))
        found = (
            Incident.objects.select_for_update(of=("self",))
            .filter(fingerprint=fingerprint)
            .filter(~Q(status=Incident.Status.RESOLVED) | Q(resolved_at__gte=window))
            .order_by(resolved, F("resolved_at").desc(nulls_last=True))
            .first()
        )
        incident = found if found is not None and found.status != Incident.Status.RESOLVED else None
        if incident is not None:
            # The row is locked: what is written here is what it holds until the transaction ends.
            incident.occurrence_count += 1
            incident.last_seen_at, incident.latest_run, incident.analysis = now, run, analysis
            incident.severity = _more_severe(incident.severity, severity)
            incident.save(
                update_fields=["occurrence_count", "last_seen_at", "latest_run", "analysis", "severity", "updated_at"]
            )
            incident_event_add(
                incident=incident,
                kind=IncidentEvent.Kind.OCCURRED,
                message=f"Failed again: run {run.external_run_id} (occurrence {incident.occurrence_count}).",
                details=details,
            )
            return incident, Change.OCCURRED
        recent = found
        resolved_before = recent.resolved_at if recent is not None else None
        try:
            with transaction.atomic():
                if recent is not None:
                    incident, change = _reopen(recent, run=run, analysis=analysis, severity=severity, now=now)
                else:
                    incident = Incident.objects.create(
                        fingerprint=fingerprint,
                        title=_title(run, analysis),
                        severity=severity,
                        category=analysis.category,
                        connection=run.connection,
                        pipeline=run.pipeline,
                        latest_run=run,
                        analysis=analysis,
                        first_seen_at=now,
                        last_seen_at=now,
                        opened_at=now,
                    )
                    change = Change.OPENED
        except IntegrityError:
            continue  # another worker opened this fingerprint a moment ago: count this failure in it
        message = (
            f"Opened by run {run.external_run_id}: {analysis.get_category_display().lower()} error."
            if change == Change.OPENED
            else f"Reopened by run {run.external_run_id}, {_ago(resolved_before, now)} after it was resolved."
        )
        kind = IncidentEvent.Kind.OPENED if change == Change.OPENED else IncidentEvent.Kind.REOPENED
        incident_event_add(incident=incident, kind=kind, message=message, details=details)
        return incident, change
    raise IntegrityError(f"could not open or update the incident of fingerprint {fingerprint}")


def _reopen(incident: Incident, *, run, analysis, severity: str, now: datetime) -> tuple[Incident, Change]:
    incident.status = Incident.Status.TRIGGERED
    incident.generation += 1
    incident.occurrence_count += 1
    incident.opened_at = incident.last_seen_at = now
    incident.acknowledged_at = incident.resolved_at = incident.paged_at = incident.silenced_until = None
    incident.latest_run, incident.analysis = run, analysis
    incident.severity = severity
    incident.save()
    return incident, Change.REOPENED


def _ago(then: datetime | None, now: datetime) -> str:
    if then is None:
        return "soon"
    minutes = max(0, int((now - then).total_seconds() // 60))
    return f"{minutes} min" if minutes else "less than a minute"


# --- Lifecycle ----------------------------------------------------------------------------------------------------


def _locked(incident_id: int) -> Incident:
    return Incident.objects.select_for_update(of=("self",)).select_related("pipeline", "connection").get(pk=incident_id)


@transaction.atomic
def incident_acknowledge(*, incident_id: int, actor: Actor) -> Incident:
    """Triggered (or silenced) → acknowledged: stops escalation. Acknowledging twice changes nothing."""
    incident = _locked(incident_id)
    if incident.status == Incident.Status.RESOLVED:
        raise ValidationError("A resolved incident cannot be acknowledged; reopen it first.")
    if incident.status == Incident.Status.ACKNOWLEDGED:
        return incident
    incident.status = Incident.Status.ACKNOWLEDGED
    incident.acknowledged_at = timezone.now()
    incident.silenced_until = None
    incident.save(update_fields=["status", "acknowledged_at", "silenced_until", "updated_at"])
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED, actor=actor, message="Acknowledged.")
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return incident


def incident_resolve_locked(
    incident: Incident, *, actor: Actor, message: str, kind: str = IncidentEvent.Kind.RESOLVED, details=None
) -> bool:
    """Resolve an incident already locked by the caller's transaction; tell the channels that were paged.
    Returns False when it was resolved already."""
    if incident.status == Incident.Status.RESOLVED:
        return False
    incident.status = Incident.Status.RESOLVED
    incident.resolved_at = timezone.now()
    incident.silenced_until = None
    incident.save(update_fields=["status", "resolved_at", "silenced_until", "updated_at"])
    incident_event_add(incident=incident, kind=kind, actor=actor, message=message, details=details)
    # Reruns the policy scheduled for this problem have nothing left to fix (one asked for by hand stays).
    counted = FailureAnalysis.objects.filter(incident=incident).values("run_id")
    for attempt in retry_attempts_cancel(run_ids=counted, reason=Skip.INCIDENT_RESOLVED):
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.RETRY_SKIPPED,
            actor=RETRY_ENGINE,
            message=f"Retry {attempt.attempt_number} cancelled: the incident was resolved meanwhile.",
            details={"attempt_id": attempt.pk},
        )
    incident_notify(incident=incident, event="resolved")
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return True


@transaction.atomic
def incident_resolve(*, incident_id: int, actor: Actor, note: str = "") -> Incident:
    """Resolve by hand (with an optional note). Resolving twice changes nothing."""
    incident = _locked(incident_id)
    note = note.strip()[:MAX_COMMENT]
    incident_resolve_locked(incident, actor=actor, message=f"Resolved: {note}" if note else "Resolved.")
    return incident


@transaction.atomic
def incident_reopen(*, incident_id: int, actor: Actor) -> Incident:
    """Resolved → triggered, as a new generation (it may page again)."""
    incident = _locked(incident_id)
    if incident.status != Incident.Status.RESOLVED:
        raise ValidationError("Only a resolved incident can be reopened.")
    other = Incident.objects.filter(fingerprint=incident.fingerprint).exclude(status=Incident.Status.RESOLVED).first()
    if other is not None:
        raise ValidationError(f"Incident #{other.pk} is already open for the same problem.")
    now = timezone.now()
    incident.status = Incident.Status.TRIGGERED
    incident.generation += 1
    incident.opened_at = now
    incident.acknowledged_at = incident.resolved_at = incident.paged_at = None
    incident.save()
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.REOPENED, actor=actor, message="Reopened by hand.")
    incident_notify(incident=incident, event="reopened")
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return incident


@transaction.atomic
def incident_assign(*, incident_id: int, actor: Actor, assignee: AbstractBaseUser | None) -> Incident:
    """Give the incident to a person who can act on it (or to nobody)."""
    incident = _locked(incident_id)
    if assignee is not None and not assignee.has_perm("incidents.acknowledge_incident"):
        raise ValidationError({"assignee": f"{assignee.get_username()} cannot act on incidents (no Responder role)."})
    if incident.assignee_id == (assignee.pk if assignee else None):
        return incident
    incident.assignee = assignee
    incident.save(update_fields=["assignee", "updated_at"])
    message = f"Assigned to {assignee.get_username()}." if assignee else "Unassigned."
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.ASSIGNED, actor=actor, message=message)
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return incident


@transaction.atomic
def incident_comment(*, incident_id: int, actor: Actor, text: str) -> IncidentEvent:
    """Add a comment to the timeline."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write a comment."})
    if len(text) > MAX_COMMENT:
        raise ValidationError({"text": f"At most {MAX_COMMENT} characters ({len(text)} given)."})
    incident = _locked(incident_id)
    event = incident_event_add(incident=incident, kind=IncidentEvent.Kind.COMMENTED, actor=actor, message=text)
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return event


@transaction.atomic
def incident_silence(*, incident_id: int, actor: Actor, until: datetime, reason: str = "") -> Incident:
    """Silence until a time: new failures are still counted but notify nobody and do not escalate."""
    now = timezone.now()
    if until <= now:
        raise ValidationError({"until": "Must be in the future."})
    if until > now + MAX_SILENCE:
        raise ValidationError({"until": "At most 30 days ahead."})
    incident = _locked(incident_id)
    if incident.status == Incident.Status.RESOLVED:
        raise ValidationError("A resolved incident cannot be silenced.")
    incident.status = Incident.Status.SILENCED
    incident.silenced_until = until
    incident.save(update_fields=["status", "silenced_until", "updated_at"])
    message = f"Silenced until {timezone.localtime(until):%Y-%m-%d %H:%M %Z}" + (
        f": {reason.strip()}" if reason else "."
    )
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.SILENCED, actor=actor, message=message[:MAX_COMMENT])
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return incident


@transaction.atomic
def incident_unsilence(*, incident_id: int, actor: Actor = SYSTEM) -> Incident:
    """End a silence: back to acknowledged if someone had acknowledged it, else triggered."""
    incident = _locked(incident_id)
    if incident.status != Incident.Status.SILENCED:
        return incident
    incident.status = Incident.Status.ACKNOWLEDGED if incident.acknowledged_at else Incident.Status.TRIGGERED
    incident.silenced_until = None
    incident.save(update_fields=["status", "silenced_until", "updated_at"])
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.UNSILENCED, actor=actor, message="Silence ended.")
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return incident


@transaction.atomic
def incident_ticket_link(*, incident_id: int, actor: Actor, system: str, key: str, url: str = "") -> TicketLink:
    """Link an external ticket (linking the same one again changes nothing)."""
    system, key, url = system.strip(), key.strip(), url.strip()
    errors = {}
    if not system:
        errors["system"] = "Name the ticketing system, e.g. Jira."
    if not key:
        errors["key"] = "Give the ticket's key, e.g. OPS-123."
    if url and not url.startswith(("https://", "http://")):
        errors["url"] = "Give a full http(s) link, or leave it blank."
    if errors:
        raise ValidationError(errors)
    incident = _locked(incident_id)
    ticket, created = TicketLink.objects.get_or_create(
        incident=incident,
        system=system[:50],
        key=key[:100],
        defaults={"url": url[:500], "created_by": actor.user, "created_by_label": actor.label},
    )
    if created:
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.TICKET_LINKED,
            actor=actor,
            message=f"Linked {ticket.system} {ticket.key}.",
            details={"system": ticket.system, "key": ticket.key, "url": ticket.url},
        )
        incidents_changed_broadcast(incident_ids=[incident.pk])
    return ticket


# --- Bulk actions from the incident list -------------------------------------------------------------------------

INCIDENTS_BULK_MAX = 500
INCIDENTS_BULK_ACTIONS = ("acknowledge", "resolve")


def incidents_bulk_act(*, incident_ids: list[int], action: str, actor: Actor) -> dict:
    """Acknowledge or resolve each incident through incident_acknowledge / incident_resolve (so each gets its own
    transaction, timeline event, notification and broadcast), skipping those gone, already there, or whose
    transition is refused. Returns {"done": n, "skipped": n, "reasons": {"already resolved": n, ...}}."""
    if action not in INCIDENTS_BULK_ACTIONS:
        raise ValidationError({"action": f"Unknown action {action!r}; use acknowledge or resolve."})
    ids = sorted(set(incident_ids))
    if len(ids) > INCIDENTS_BULK_MAX:
        raise ValidationError({"ids": f"At most {INCIDENTS_BULK_MAX} incidents at a time ({len(ids)} given)."})
    if action == "acknowledge":
        apply, target = incident_acknowledge, Incident.Status.ACKNOWLEDGED
    else:
        apply, target = incident_resolve, Incident.Status.RESOLVED
    statuses = dict(Incident.objects.filter(pk__in=ids).values_list("pk", "status"))
    done, reasons = 0, Counter()
    for incident_id in ids:
        status = statuses.get(incident_id)
        if status is None:
            reasons["not found"] += 1
            continue
        if status == target:
            # The service would change nothing: not counted as done.
            reasons[f"already {target}"] += 1
            continue
        try:
            apply(incident_id=incident_id, actor=actor)
        except Incident.DoesNotExist:
            reasons["not found"] += 1
        except ValidationError:
            # Refused for the state it is in now (e.g. acknowledging a resolved one).
            current = Incident.objects.filter(pk=incident_id).values_list("status", flat=True).first()
            reasons[f"already {current}" if current else "not found"] += 1
        else:
            done += 1
    return {"done": done, "skipped": sum(reasons.values()), "reasons": dict(reasons)}
