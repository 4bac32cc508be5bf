"""Storms: one shared cause (a self-hosted integration runtime offline, an expired service principal, a workspace
outage) fails many pipelines of a connection with the same error. They count in one incident, fingerprinted by
connection × signature, in which each pipeline has its part (IncidentPipeline): counted when it fails, recovered by
its own next success; the incident resolves itself when every part has recovered.

Which incident a failure joins, in order: the open incident of its own pipeline and signature (one a person split
out, or one opened before storms were grouped); else the open shared incident of its connection and signature, when
the pipeline is already part of it or the incident was last seen within AIMS_STORM_WINDOW_MINUTES; else, when that
shared incident has been quiet longer than the window, an incident of the pipeline's own (a failure that late is
taken for a new problem, not the storm, and a person can still merge it); else a new shared incident (or the shared
one resolved within the reopen window, reopened). Concurrent first failures all choose the shared fingerprint, and
the partial unique index on open fingerprints lets exactly one of them open it: the others count in it."""

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, IncidentPipeline, Occurrence
from incidents.realtime import incidents_changed_broadcast
from incidents.services.events import SYSTEM, Actor, incident_event_add
from incidents.services.incidents import incident_resolve_locked
from monitors.models import Pipeline

STORM_PREFIX = "storm:"


def fingerprint_of(group_key: str) -> str:
    """What groups occurrences into one incident: the hash of their source's group key."""
    return hashlib.sha256(group_key.encode()).hexdigest()


def pipeline_group_key(*, connection_id: int, pipeline_id: int, signature: str) -> str:
    """One pipeline's failures with one signature (the grouping before storms, and a split-out part's)."""
    return f"signature:{connection_id}:{pipeline_id}:{signature}"


def storm_group_key(*, connection_id: int, signature: str) -> str:
    """Every pipeline of a connection failing with one signature."""
    return f"{STORM_PREFIX}{connection_id}:{signature}"


def storms_grouped() -> bool:
    return settings.AIMS_INCIDENT_GROUPING == "signature" and settings.AIMS_STORM_WINDOW_MINUTES > 0


def failure_group_key(*, connection_id: int, pipeline_id: int, signature: str) -> str:
    """The group key of a pipeline's failure with this signature, chosen as the module says (one query)."""
    own = pipeline_group_key(connection_id=connection_id, pipeline_id=pipeline_id, signature=signature)
    if not storms_grouped():
        return own
    shared = storm_group_key(connection_id=connection_id, signature=signature)
    by_fingerprint = {fingerprint_of(own): own, fingerprint_of(shared): shared}
    open_ones = {
        row["fingerprint"]: row
        for row in Incident.objects.filter(fingerprint__in=list(by_fingerprint))
        .exclude(status=Incident.Status.RESOLVED)
        .values("pk", "fingerprint", "last_seen_at")
    }
    if fingerprint_of(own) in open_ones:
        return own
    storm = open_ones.get(fingerprint_of(shared))
    if storm is None:
        return shared
    window = timezone.now() - timedelta(minutes=settings.AIMS_STORM_WINDOW_MINUTES)
    if storm["last_seen_at"] >= window:
        return shared
    part_of_it = IncidentPipeline.objects.filter(incident_id=storm["pk"], pipeline_id=pipeline_id).exists()
    return shared if part_of_it else own


def part_count(*, incident: Incident, occurrence: Occurrence, now: datetime) -> IncidentPipeline | None:
    """Count an occurrence in its pipeline's part of the (locked) incident: the part is created, or counted again
    (and failing again if it had recovered). A pipeline new to an incident of another pipeline gets a `pipeline_joined`
    timeline entry. Call in the intake's transaction, after the incident is locked or created."""
    if occurrence.pipeline_id is None:
        return None
    part = (
        IncidentPipeline.objects.select_for_update(of=("self",))
        .filter(incident=incident, pipeline_id=occurrence.pipeline_id)
        .first()
    )
    if part is not None:
        part.occurrence_count += 1
        part.last_seen_at = now
        part.last_failed_at = max(part.last_failed_at, occurrence.detected_at)
        part.recovered_at = None
        part.save(update_fields=["occurrence_count", "last_seen_at", "last_failed_at", "recovered_at", "updated_at"])
        return part
    part = IncidentPipeline.objects.create(
        incident=incident,
        pipeline_id=occurrence.pipeline_id,
        first_seen_at=now,
        last_seen_at=now,
        last_failed_at=occurrence.detected_at,
    )
    if incident.pipeline_id is not None and incident.pipeline_id != occurrence.pipeline_id:
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.PIPELINE_JOINED,
            params={
                "pipeline_id": occurrence.pipeline_id,
                "pipeline": _pipeline_name(occurrence.pipeline_id),
                "subject_label": occurrence.subject_label,
                "affected": IncidentPipeline.objects.filter(incident=incident).count(),
            },
        )
    return part


def _pipeline_name(pipeline_id: int) -> str:
    return Pipeline.objects.filter(pk=pipeline_id).values_list("name", flat=True).first() or f"pipeline {pipeline_id}"


def part_recover_locked(
    incident: Incident,
    *,
    pipeline_id: int,
    recovered_at: datetime,
    subject_label: str,
    actor: Actor = SYSTEM,
    resolve_params: dict | None = None,
) -> bool | None:
    """A success of a pipeline seen at `recovered_at` recovers its failing part of the (locked, open) incident, unless
    the part failed again after it. The last part to recover resolves the incident (`resolve_params` on its
    `auto_resolved` entry); an earlier one gets a `part_recovered` entry. Returns whether the incident was resolved
    now, or None when the incident has no parts (an incident from before storms: the caller resolves it as before)."""
    parts = list(IncidentPipeline.objects.select_for_update(of=("self",)).filter(incident=incident))
    if not parts:
        return None
    part = next((part for part in parts if part.pipeline_id == pipeline_id), None)
    if part is None or part.recovered_at is not None or part.last_failed_at >= recovered_at:
        return False
    part.recovered_at = recovered_at
    part.save(update_fields=["recovered_at", "updated_at"])
    failing = sum(1 for other in parts if other.recovered_at is None)
    if failing:
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.PART_RECOVERED,
            actor=actor,
            params={
                "pipeline_id": pipeline_id,
                "pipeline": _pipeline_name(pipeline_id),
                "subject_label": subject_label,
                "failing": failing,
                "affected": len(parts),
            },
        )
        incidents_changed_broadcast(incident_ids=[incident.pk])
        return False
    return incident_resolve_locked(
        incident,
        actor=actor,
        kind=IncidentEvent.Kind.AUTO_RESOLVED,
        params=resolve_params if resolve_params is not None else {"subject_label": subject_label},
    )


def pipeline_parts_recover(
    *, pipeline_id: int, recovered_at: datetime, subject_label: str, allowed: Callable[[Incident], bool]
) -> tuple[int, list[int]]:
    """A pipeline succeeded: recover its failing part of every open incident (see part_recover_locked) that `allowed`
    lets recover. Returns how many incidents that resolved, and the open incidents of the pipeline that have no parts
    (the caller recovers those as before)."""
    resolved = 0
    with_parts = IncidentPipeline.objects.filter(pipeline_id=pipeline_id, recovered_at__isnull=True)
    for incident_id in (
        Incident.objects.filter(pk__in=with_parts.values("incident_id"))
        .exclude(status=Incident.Status.RESOLVED)
        .values_list("pk", flat=True)
    ):
        with transaction.atomic():
            incident = Incident.objects.select_for_update(of=("self",)).get(pk=incident_id)
            if incident.status == Incident.Status.RESOLVED or not allowed(incident):
                continue
            resolved += bool(
                part_recover_locked(
                    incident, pipeline_id=pipeline_id, recovered_at=recovered_at, subject_label=subject_label
                )
            )
    without_parts = list(
        Incident.objects.filter(pipeline_id=pipeline_id, parts__isnull=True)
        .exclude(status=Incident.Status.RESOLVED)
        .values_list("pk", flat=True)
    )
    return resolved, without_parts


def part_ensure(incident: Incident) -> None:
    """Give an incident of one pipeline from before storms its part (merging needs every incident's parts)."""
    if incident.pipeline_id is None or IncidentPipeline.objects.filter(incident=incident).exists():
        return
    latest = incident.latest_occurrence
    IncidentPipeline.objects.create(
        incident=incident,
        pipeline_id=incident.pipeline_id,
        first_seen_at=incident.first_seen_at,
        last_seen_at=incident.last_seen_at,
        last_failed_at=latest.detected_at if latest is not None else incident.last_seen_at,
        occurrence_count=incident.occurrence_count,
        recovered_at=incident.resolved_at,
    )


def parts_move(*, source_ids: list[int], target: Incident) -> None:
    """Merging: the sources' parts become the target's; a pipeline in both keeps one part (counts added, failing if
    either was). Call with every incident locked."""
    mine = {part.pipeline_id: part for part in IncidentPipeline.objects.select_for_update().filter(incident=target)}
    for part in IncidentPipeline.objects.select_for_update().filter(incident_id__in=source_ids).order_by("pk"):
        kept = mine.get(part.pipeline_id)
        if kept is None:
            part.incident = target
            part.save(update_fields=["incident", "updated_at"])
            mine[part.pipeline_id] = part
            continue
        kept.occurrence_count += part.occurrence_count
        kept.first_seen_at = min(kept.first_seen_at, part.first_seen_at)
        kept.last_seen_at = max(kept.last_seen_at, part.last_seen_at)
        kept.last_failed_at = max(kept.last_failed_at, part.last_failed_at)
        if kept.recovered_at is not None:
            kept.recovered_at = None if part.recovered_at is None else max(kept.recovered_at, part.recovered_at)
        kept.save()
        part.delete()


def part_counts(incident_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(pipelines affected, still failing) per incident that has parts (one query)."""
    rows = (
        IncidentPipeline.objects.filter(incident_id__in=incident_ids)
        .values("incident_id")
        .annotate(affected=Count("pk"), failing=Count("pk", filter=Q(recovered_at__isnull=True)))
    )
    return {row["incident_id"]: (row["affected"], row["failing"]) for row in rows}
