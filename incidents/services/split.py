"""Splitting an incident by hand: one pipeline's part of a shared incident (its occurrences and its runs' analyses)
moves out into a new incident of its own, when a person sees that pipeline fails for a reason of its own."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.models import FailureAnalysis, Incident, IncidentEvent, IncidentPipeline, Notification, Occurrence
from incidents.realtime import incidents_changed_broadcast
from incidents.services.events import Actor, incident_event_add
from incidents.services.incidents import MAX_COMMENT
from incidents.services.notifications import incident_notify
from incidents.services.storms import fingerprint_of, pipeline_group_key


def _split_fingerprint(incident: Incident, pipeline_id: int, latest: Occurrence) -> str:
    """The pipeline's own fingerprint for its signature, so its next failures count in the new incident (triage
    looks for a pipeline's own open incident first); one of its own for an occurrence without an analysis."""
    if latest.analysis is not None and incident.connection_id is not None:
        key = pipeline_group_key(
            connection_id=incident.connection_id, pipeline_id=pipeline_id, signature=latest.analysis.signature
        )
    else:
        key = f"split:{incident.pk}:{pipeline_id}:{timezone.now().isoformat()}"
    return fingerprint_of(key)


@transaction.atomic
def incident_split(
    *,
    incident_id: int,
    pipeline_id: int,
    actor: Actor,
    note: str = "",
    check: Callable[[Incident], None] | None = None,
) -> Incident:
    """Move one pipeline's part of an open incident of several pipelines out into a new incident: its occurrences,
    its runs' analyses (and so their retries) and its part row; both get a `split` timeline entry naming the other,
    the new one is paged as opened. `check` sees the locked incident first (the API's If-Match). Returns the new
    incident."""
    incident = Incident.objects.select_for_update(of=("self",)).get(pk=incident_id)
    if check is not None:
        check(incident)
    if incident.status == Incident.Status.RESOLVED:
        raise ValidationError("Only an open incident can be split; reopen it first.", code="already_resolved")
    parts = {part.pipeline_id: part for part in IncidentPipeline.objects.select_for_update().filter(incident=incident)}
    part = parts.get(pipeline_id)
    if part is None:
        raise ValidationError({"pipeline": f"That pipeline is not one of incident #{incident.pk}'s pipelines."})
    if len(parts) < 2:
        raise ValidationError(
            "This incident has one pipeline only: there is nothing to split off.", code="split_single_pipeline"
        )
    moving = Occurrence.objects.filter(incident=incident, pipeline_id=pipeline_id)
    latest = moving.select_related("analysis", "pipeline").order_by("-detected_at", "-id").first()
    if latest is None:
        raise ValidationError({"pipeline": "That pipeline has no failures counted in this incident."})
    fingerprint = _split_fingerprint(incident, pipeline_id, latest)
    taken = Incident.objects.filter(fingerprint=fingerprint).exclude(status=Incident.Status.RESOLVED).first()
    if taken is not None:
        raise ValidationError(
            f"Incident #{taken.pk} already tracks this pipeline's failure; merge into it instead.", code="split_taken"
        )
    now = timezone.now()
    moved_count = moving.count()
    new = Incident.objects.create(
        fingerprint=fingerprint,
        source=latest.source,
        title=latest.title,
        severity=incident.severity,
        category=latest.category,
        connection_id=incident.connection_id,
        pipeline_id=pipeline_id,
        assignee_id=incident.assignee_id,
        first_seen_at=part.first_seen_at,
        last_seen_at=part.last_seen_at,
        opened_at=now,
        occurrence_count=moved_count,
        latest_occurrence=latest,
        latest_run_id=latest.run_id,
        analysis_id=latest.analysis_id,
    )
    moving.update(incident=new)
    FailureAnalysis.objects.filter(incident=incident, run__pipeline_id=pipeline_id).update(incident=new)
    part.incident = new
    part.save(update_fields=["incident", "updated_at"])
    _rest_take(incident, remaining=[other for pk, other in parts.items() if pk != pipeline_id], moved=moved_count)
    note = note.strip()[:MAX_COMMENT]
    pipeline = latest.pipeline.name if latest.pipeline else f"pipeline {pipeline_id}"
    about = {"pipeline_id": pipeline_id, "pipeline": pipeline}
    incident_event_add(
        incident=incident, kind=IncidentEvent.Kind.SPLIT, actor=actor, params={**about, "into": new.pk}, note=note
    )
    incident_event_add(
        incident=new, kind=IncidentEvent.Kind.SPLIT, actor=actor, params={**about, "out_of": incident.pk}, note=note
    )
    incident_notify(incident=new, event=Notification.Event.OPENED)
    incidents_changed_broadcast(incident_ids=[incident.pk, new.pk])
    return new


def _rest_take(incident: Incident, *, remaining: list[IncidentPipeline], moved: int) -> None:
    """What stays in the incident after a split: its count, its latest occurrence and run, and a pipeline of its own."""
    incident.occurrence_count = max(incident.occurrence_count - moved, 1)
    latest = Occurrence.objects.filter(incident=incident).order_by("-detected_at", "-id").first()
    incident.latest_occurrence = latest
    incident.latest_run_id = latest.run_id if latest else None
    incident.analysis_id = latest.analysis_id if latest else None
    if incident.pipeline_id not in {part.pipeline_id for part in remaining}:
        incident.pipeline_id = min(remaining, key=lambda part: (part.first_seen_at, part.pk)).pipeline_id
    incident.save(
        update_fields=["occurrence_count", "latest_occurrence", "latest_run", "analysis", "pipeline", "updated_at"]
    )
