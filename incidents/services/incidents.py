"""Incidents: the lifecycle people (and the engines) drive, each change a timeline event, announced after commit.
Occurrences open and count them (incidents.services.occurrences)."""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from incidents.models import FailureAnalysis, Incident, IncidentEvent, TicketLink
from incidents.realtime import incidents_changed_broadcast
from incidents.services.events import RETRY_ENGINE, SYSTEM, Actor, incident_event_add
from incidents.services.notifications import incident_notify
from remediation.services import Skip, retry_attempts_cancel

MAX_SILENCE = timedelta(days=30)
MAX_COMMENT = 5000


# --- Lifecycle ----------------------------------------------------------------------------------------------------


def _locked(incident_id: int) -> Incident:
    return Incident.objects.select_for_update(of=("self",)).select_related("pipeline", "connection").get(pk=incident_id)


@transaction.atomic
def incident_acknowledge(*, incident_id: int, actor: Actor) -> Incident:
    """Triggered (or silenced) → acknowledged: stops escalation. Acknowledging twice changes nothing."""
    incident = _locked(incident_id)
    if incident.status == Incident.Status.RESOLVED:
        raise ValidationError("A resolved incident cannot be acknowledged; reopen it first.", code="already_resolved")
    if incident.status == Incident.Status.ACKNOWLEDGED:
        return incident
    incident.status = Incident.Status.ACKNOWLEDGED
    incident.acknowledged_at = timezone.now()
    incident.silenced_until = None
    incident.save(update_fields=["status", "acknowledged_at", "silenced_until", "updated_at"])
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.ACKNOWLEDGED, actor=actor)
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return incident


def incident_resolve_locked(
    incident: Incident,
    *,
    actor: Actor,
    kind: str = IncidentEvent.Kind.RESOLVED,
    params: dict | None = None,
    note: str = "",
) -> bool:
    """Resolve an incident already locked by the caller's transaction; tell the channels that were paged.
    Returns False when it was resolved already."""
    if incident.status == Incident.Status.RESOLVED:
        return False
    incident.status = Incident.Status.RESOLVED
    incident.resolved_at = timezone.now()
    incident.silenced_until = None
    incident.save(update_fields=["status", "resolved_at", "silenced_until", "updated_at"])
    incident_event_add(incident=incident, kind=kind, actor=actor, params=params, note=note)
    # Reruns the policy scheduled for this problem have nothing left to fix (one asked for by hand stays).
    counted = FailureAnalysis.objects.filter(incident=incident).values("run_id")
    for attempt in retry_attempts_cancel(run_ids=counted, reason=Skip.INCIDENT_RESOLVED):
        incident_event_add(
            incident=incident,
            kind=IncidentEvent.Kind.RETRY_SKIPPED,
            actor=RETRY_ENGINE,
            params={
                "attempt_id": attempt.pk,
                "attempt_number": attempt.attempt_number,
                "reason": Skip.INCIDENT_RESOLVED,
                "reason_params": {},
            },
        )
    incident_notify(incident=incident, event="resolved")
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return True


@transaction.atomic
def incident_resolve(*, incident_id: int, actor: Actor, note: str = "") -> Incident:
    """Resolve by hand (with an optional note). Resolving twice changes nothing."""
    incident = _locked(incident_id)
    note = note.strip()[:MAX_COMMENT]
    incident_resolve_locked(incident, actor=actor, note=note)
    return incident


@transaction.atomic
def incident_reopen(*, incident_id: int, actor: Actor) -> Incident:
    """Resolved → triggered, as a new generation (it may page again)."""
    incident = _locked(incident_id)
    if incident.status != Incident.Status.RESOLVED:
        raise ValidationError("Only a resolved incident can be reopened.", code="not_resolved")
    other = Incident.objects.filter(fingerprint=incident.fingerprint).exclude(status=Incident.Status.RESOLVED).first()
    if other is not None:
        raise ValidationError(f"Incident #{other.pk} is already open for the same problem.", code="already_open")
    now = timezone.now()
    incident.status = Incident.Status.TRIGGERED
    incident.generation += 1
    incident.opened_at = now
    incident.acknowledged_at = incident.resolved_at = incident.paged_at = None
    incident.save()
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.REOPENED, actor=actor)
    incident_notify(incident=incident, event="reopened")
    incidents_changed_broadcast(incident_ids=[incident.pk])
    return incident


@transaction.atomic
def incident_assign(*, incident_id: int, actor: Actor, assignee: User | None) -> Incident:
    """Give the incident to a person who can act on it (or to nobody)."""
    incident = _locked(incident_id)
    if assignee is not None and not assignee.has_perm("incidents.acknowledge_incident"):
        raise ValidationError({"assignee": f"{assignee.get_username()} cannot act on incidents (no Responder role)."})
    if incident.assignee_id == (assignee.pk if assignee else None):
        return incident
    incident.assignee = assignee
    incident.save(update_fields=["assignee", "updated_at"])
    params = {"assignee_id": assignee.pk, "assignee": assignee.get_username()} if assignee else {"assignee": None}
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.ASSIGNED, actor=actor, params=params)
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
    event = incident_event_add(incident=incident, kind=IncidentEvent.Kind.COMMENTED, actor=actor, note=text)
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
        raise ValidationError("A resolved incident cannot be silenced.", code="already_resolved")
    incident.status = Incident.Status.SILENCED
    incident.silenced_until = until
    incident.save(update_fields=["status", "silenced_until", "updated_at"])
    incident_event_add(
        incident=incident,
        kind=IncidentEvent.Kind.SILENCED,
        actor=actor,
        params={"until": until.isoformat()},
        note=reason.strip()[:MAX_COMMENT],
    )
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
    incident_event_add(incident=incident, kind=IncidentEvent.Kind.UNSILENCED, actor=actor)
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
            params={"system": ticket.system, "key": ticket.key, "url": ticket.url},
        )
        incidents_changed_broadcast(incident_ids=[incident.pk])
    return ticket


@transaction.atomic
def incident_ticket_unlink(*, incident_id: int, link_id: int, actor: Actor) -> None:
    """Remove a linked ticket, with a `ticket_unlinked` timeline entry."""
    incident = _locked(incident_id)
    ticket = TicketLink.objects.filter(incident=incident, pk=link_id).first()
    if ticket is None:
        raise TicketLink.DoesNotExist(f"Incident #{incident.pk} has no ticket link {link_id}.")
    ticket.delete()
    incident_event_add(
        incident=incident,
        kind=IncidentEvent.Kind.TICKET_UNLINKED,
        actor=actor,
        params={"system": ticket.system, "key": ticket.key, "url": ticket.url},
    )
    incidents_changed_broadcast(incident_ids=[incident.pk])


# --- Bulk actions (the incident list, the API) ---------------------------------------------------------------------

# One limit for the list page and the API: each incident is its own transaction, so a bulk request stays short.
INCIDENTS_BULK_MAX = 250
# What the incident list's bulk form offers (the API's BULK_ACTIONS add reopen and leave out comment).
INCIDENTS_BULK_ACTIONS = ("acknowledge", "resolve", "silence", "assign", "comment")
BULK_ACTIONS = ("acknowledge", "resolve", "reopen", "silence", "assign")
_BULK_TARGETS = {"acknowledge": Incident.Status.ACKNOWLEDGED, "resolve": Incident.Status.RESOLVED}


@dataclass(frozen=True)
class BulkOutcome:
    """What a bulk action did to one incident: `done`, `unchanged` (it was so already), `refused` (its service
    refused the transition, `code` says why) or `not_found`."""

    incident_id: int
    outcome: str
    code: str = ""
    detail: str = ""


def _refusal_code(error: ValidationError) -> str:
    errors = [item for items in error.error_dict.values() for item in items] if hasattr(error, "error_dict") else []
    return next((item.code for item in errors or error.error_list if item.code), "refused")


def incidents_bulk_apply(
    *,
    incident_ids: list[int],
    action: str,
    actor: Actor,
    note: str = "",
    until: datetime | None = None,
    reason: str = "",
    assignee: User | None = None,
    text: str = "",
) -> list[BulkOutcome]:
    """Apply one lifecycle action to each incident through its own service (so each gets its own transaction,
    timeline entry, notification and broadcast); one outcome per distinct id, in id order."""
    apply = _bulk_applier(action, actor=actor, note=note, until=until, reason=reason, assignee=assignee, text=text)
    ids = sorted(set(incident_ids))
    rows = {
        pk: (status, assignee_id)
        for pk, status, assignee_id in Incident.objects.filter(pk__in=ids).values_list("pk", "status", "assignee_id")
    }
    outcomes = []
    for incident_id in ids:
        if incident_id not in rows:
            outcomes.append(BulkOutcome(incident_id, "not_found", "not_found", "No such incident."))
            continue
        status, assignee_id = rows[incident_id]
        if action in ("acknowledge", "resolve") and status == _BULK_TARGETS[action]:
            # The service would change nothing: not counted as done.
            outcomes.append(BulkOutcome(incident_id, "unchanged", f"already_{status}", f"Already {status}."))
            continue
        if action == "assign" and assignee_id == (assignee.pk if assignee else None):
            outcomes.append(BulkOutcome(incident_id, "unchanged", "already_assigned", "Already assigned so."))
            continue
        try:
            apply(incident_id)
        except Incident.DoesNotExist:
            outcomes.append(BulkOutcome(incident_id, "not_found", "not_found", "No such incident."))
        except ValidationError as error:
            outcomes.append(BulkOutcome(incident_id, "refused", _refusal_code(error), " ".join(error.messages)))
        else:
            outcomes.append(BulkOutcome(incident_id, "done"))
    return outcomes


def _bulk_applier(
    action: str, *, actor: Actor, note: str, until: datetime | None, reason: str, assignee: User | None, text: str = ""
) -> Callable[[int], object]:
    """The service call of `action` for one incident id, its parameters checked once for all."""
    if action == "acknowledge":
        return lambda pk: incident_acknowledge(incident_id=pk, actor=actor)
    if action == "resolve":
        return lambda pk: incident_resolve(incident_id=pk, actor=actor, note=note)
    if action == "reopen":
        return lambda pk: incident_reopen(incident_id=pk, actor=actor)
    if action == "assign":
        return lambda pk: incident_assign(incident_id=pk, actor=actor, assignee=assignee)
    if action == "silence":
        if until is None:
            raise ValidationError({"until": "Say until when to silence."})
        moment = until
        return lambda pk: incident_silence(incident_id=pk, actor=actor, until=moment, reason=reason)
    if action == "comment":
        if not text.strip():
            raise ValidationError({"text": "Write a comment."})
        return lambda pk: incident_comment(incident_id=pk, actor=actor, text=text)
    raise ValidationError({"action": f"Unknown action {action!r}; use one of {', '.join(BULK_ACTIONS)}."})


def incidents_bulk_act(
    *,
    incident_ids: list[int],
    action: str,
    actor: Actor,
    until: datetime | None = None,
    reason: str = "",
    assignee: User | None = None,
    text: str = "",
) -> dict:
    """Acknowledge, resolve, silence, assign or comment on the incidents chosen on the list (see
    incidents_bulk_apply), skipping those gone, already there, or whose transition is refused. Returns {"done": n,
    "skipped": n, "reasons": {"already resolved": n, ...}, "outcomes": [BulkOutcome, ...]}."""
    if action not in INCIDENTS_BULK_ACTIONS:
        raise ValidationError({"action": f"Unknown action {action!r}; use one of {', '.join(INCIDENTS_BULK_ACTIONS)}."})
    ids = sorted(set(incident_ids))
    if len(ids) > INCIDENTS_BULK_MAX:
        raise ValidationError({"ids": f"At most {INCIDENTS_BULK_MAX} incidents at a time ({len(ids)} given)."})
    outcomes = incidents_bulk_apply(
        incident_ids=ids, action=action, actor=actor, until=until, reason=reason, assignee=assignee, text=text
    )
    reasons = Counter(outcome.code.replace("_", " ") for outcome in outcomes if outcome.outcome != "done")
    done = sum(outcome.outcome == "done" for outcome in outcomes)
    return {"done": done, "skipped": sum(reasons.values()), "reasons": dict(reasons), "outcomes": outcomes}
