"""Edits to an incident as a whole: its title, severity and assignee (one `updated` timeline entry listing what
changed), and merging duplicate incidents into one."""

import unicodedata
from collections.abc import Callable
from enum import Enum

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from aimsweb.choices import Severity
from incidents.models import FailureAnalysis, Incident, IncidentEvent, Occurrence
from incidents.realtime import incidents_changed_broadcast
from incidents.services.events import Actor, incident_event_add
from incidents.services.incidents import MAX_COMMENT, incident_resolve_locked
from incidents.services.storms import part_ensure, parts_move

MAX_TITLE = 300
MERGE_MAX_SOURCES = 50
# Direction overrides and isolates reorder what a reader sees ("Trojan Source"); no title needs them.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class Keep(Enum):
    """A field incident_update leaves as it is (None is a value: nobody assigned)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def _title_problem(title: str) -> str:
    if not title:
        return "Give a title."
    if len(title) > MAX_TITLE:
        return f"At most {MAX_TITLE} characters ({len(title)} given)."
    if any(unicodedata.category(char) in ("Cc", "Cs") or char in _BIDI_CONTROLS for char in title):
        return "One line of text: no control characters (line breaks, tabs, escapes, direction overrides)."
    return ""


def _assignee_problem(assignee: User) -> str:
    if not assignee.is_active:
        return f"{assignee.get_username()} is deactivated."
    if not assignee.has_perm("incidents.acknowledge_incident"):
        return f"{assignee.get_username()} cannot act on incidents (no Responder role)."
    return ""


def _username(user: User | None) -> str | None:
    return user.get_username() if user is not None else None


@transaction.atomic
def incident_update(
    *,
    incident_id: int,
    actor: Actor,
    severity: str | Keep = KEEP,
    assignee: User | None | Keep = KEEP,
    title: str | Keep = KEEP,
) -> Incident:
    """Set the title, severity and/or assignee; one `updated` entry records each change as [before, after] (none
    when nothing changes)."""
    errors = {}
    if not isinstance(title, Keep):
        title = title.strip()
        if problem := _title_problem(title):
            errors["title"] = problem
    if not isinstance(severity, Keep) and severity not in Severity.values:
        errors["severity"] = f"One of {', '.join(Severity.values)}."
    if isinstance(assignee, User) and (problem := _assignee_problem(assignee)):
        errors["assignee"] = problem
    if errors:
        raise ValidationError(errors)
    incident = Incident.objects.select_for_update(of=("self",)).select_related("assignee").get(pk=incident_id)
    changes: dict[str, list] = {}
    if not isinstance(title, Keep) and title != incident.title:
        changes["title"] = [incident.title, title]
        incident.title = title
    if not isinstance(severity, Keep) and severity != incident.severity:
        changes["severity"] = [incident.severity, severity]
        incident.severity = severity
    if not isinstance(assignee, Keep) and incident.assignee_id != (assignee.pk if assignee else None):
        changes["assignee"] = [_username(incident.assignee), _username(assignee)]
        incident.assignee = assignee
    if not changes:
        return incident
    incident.save(update_fields=[*changes, "updated_at"])
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.UPDATED, actor=actor, params={"changes": changes})
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return incident


@transaction.atomic
def incident_merge(
    *,
    incident_id: int,
    actor: Actor,
    source_ids: list[int],
    note: str = "",
    check: Callable[[Incident], None] | None = None,
) -> Incident:
    """Merge duplicates into this open incident: their occurrences, analysed runs and pipelines' parts move here and
    its count grows; each source is resolved with a `merged` entry naming this one, which gets one naming them.
    `check` sees the locked target before anything is written (the API's If-Match)."""
    sources = sorted(set(source_ids))
    if not sources:
        raise ValidationError({"sources": "Name at least one incident to merge into this one."})
    if len(sources) > MERGE_MAX_SOURCES:
        raise ValidationError({"sources": f"At most {MERGE_MAX_SOURCES} at a time ({len(sources)} given)."})
    if incident_id in sources:
        raise ValidationError("An incident cannot be merged into itself.", code="merge_into_self")
    # Every row locked in id order, so two merges over the same incidents wait for each other instead of deadlocking.
    locked = {
        incident.pk: incident
        for incident in Incident.objects.select_for_update(of=("self",))
        .filter(pk__in=[incident_id, *sources])
        .order_by("pk")
    }
    target = locked.get(incident_id)
    if target is None:
        raise Incident.DoesNotExist(f"No incident #{incident_id}.")
    if check is not None:
        check(target)
    missing = [pk for pk in sources if pk not in locked]
    if missing:
        names = ", ".join(f"#{pk}" for pk in missing)
        raise ValidationError(f"No incident {names} to merge.", code="merge_source_missing")
    if target.status == Incident.Status.RESOLVED:
        raise ValidationError("Only an open incident can take others in; reopen it first.", code="already_resolved")
    merged = sorted(
        IncidentEvent.objects.filter(
            incident_id__in=sources,
            kind=IncidentEvent.Kind.MERGED,
            params__has_key="into",
            # Since it was last opened: a merged incident that a new failure reopened may be merged again.
            created_at__gte=F("incident__opened_at"),
        )
        .values_list("incident_id", flat=True)
        .distinct()
    )
    if merged:
        names = ", ".join(f"#{pk}" for pk in merged)
        raise ValidationError(f"Incident {names} was merged already.", code="already_merged")
    for incident in locked.values():
        part_ensure(incident)
    parts_move(source_ids=sources, target=target)
    Occurrence.objects.filter(incident_id__in=sources).update(incident=target)
    FailureAnalysis.objects.filter(incident_id__in=sources).update(incident=target)
    note = note.strip()[:MAX_COMMENT]
    for source in (locked[pk] for pk in sources):
        target.occurrence_count += source.occurrence_count
        target.first_seen_at = min(target.first_seen_at, source.first_seen_at)
        target.last_seen_at = max(target.last_seen_at, source.last_seen_at)
        into = {"into": target.pk}
        # Resolved after its runs moved: the reruns scheduled for them now serve the target and are not cancelled.
        if not incident_resolve_locked(source, actor=actor, kind=IncidentEvent.Kind.MERGED, params=into, note=note):
            incident_event_add(incident=source, kind=IncidentEvent.Kind.MERGED, actor=actor, params=into, note=note)
    target.save(update_fields=["occurrence_count", "first_seen_at", "last_seen_at", "updated_at"])
    incident_event_add(
        incident=target, kind=IncidentEvent.Kind.MERGED, actor=actor, params={"sources": sources}, note=note
    )
    incidents_changed_broadcast(incident_ids=[target.pk, *sources])
    return target
