"""What comes back from a ticket: a status a person moved it to, a comment a person wrote. From Jira webhooks,
ServiceNow callbacks and the reconcile poll alike, each taken once (by delivery id, by comment id).

Decided here: a ticket moved to a done status resolves its incident; moved to an in-progress status, it acknowledges a
triggered or silenced one; moved back to a new status, the change is put on the timeline and the incident left as
it is (reopening pages people again: that stays a decision made in AIMS). Every change made here has the ticket as
actor, so the outbox never sends it back; a change or comment made by AIMS's own account is never taken in."""

import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, TicketLink
from incidents.services.events import Actor, incident_event_add
from incidents.services.incidents import MAX_COMMENT, incident_acknowledge, incident_comment, incident_resolve
from tickets.clients.jira import comment_of, issue_of
from tickets.clients.servicenow import STATE_CATEGORY, STATE_WORDS, servicenow_time
from tickets.models import InboundDelivery, TicketComment, TicketRoute, TicketRouteLink
from tickets.systems import COMMENT_MARKER_PATTERN, CORRELATION, RemoteComment
from tickets.systems.servicenow import journal_entry_id

MAX_DELIVERY_ID = 200


def delivery_first_seen(*, route: TicketRoute, delivery_id: str) -> bool:
    """Record a delivery by its id; False when it was taken before (a retry, or the sender's double)."""
    try:
        with transaction.atomic():
            InboundDelivery.objects.create(route=route, delivery_id=delivery_id[:MAX_DELIVERY_ID])
    except IntegrityError:
        return False
    return True


def body_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _ticket_actor(route: TicketRoute, key: str) -> Actor:
    return Actor(type=IncidentEvent.ActorType.TICKET, label=f"{route.system_label} {key}"[:150])


def route_link_find(*, route: TicketRoute, correlation: str = "", key: str = "") -> TicketRouteLink | None:
    """The incident's link on this route, by the ticket's marker or else its key."""
    match = CORRELATION.match(correlation)
    links = TicketRouteLink.objects.select_related("link")
    if match and int(match.group(2)) == route.pk:
        return links.filter(route=route, incident_id=int(match.group(1))).first()
    if key:
        return links.filter(route=route, link__system=route.system_label, link__key=key).first()
    return None


def ticket_status_take(
    *, route: TicketRoute, link: TicketRouteLink, status: str, category: str, by_person: bool
) -> str:
    """A ticket's status as seen now: recorded on its link, and when a person moved it to another category, the
    incident follows (see the module's note). Returns what was done, in words."""
    if category not in ("new", "indeterminate", "done"):
        return "status without a known category"
    with transaction.atomic():
        link = TicketRouteLink.objects.select_for_update(of=("self",)).select_related("link").get(pk=link.pk)
        if link.link_id is not None:
            TicketLink.objects.filter(pk=link.link_id).update(remote_status=status[:100], last_synced_at=timezone.now())
        if category == link.remote_category:
            return "no change"
        if not by_person:
            # AIMS's own change coming back: the worker records the category it set.
            return "own change"
        link.remote_category = category
        link.save(update_fields=["remote_category", "updated_at"])
        key = link.link.key if link.link else ""
        actor = _ticket_actor(route, key)
        incident = Incident.objects.get(pk=link.incident_id)
        action = ""
        try:
            if category == "done" and incident.status != Incident.Status.RESOLVED:
                incident_resolve(incident_id=incident.pk, actor=actor, note=f"{route.system_label} {key} is {status}.")
                action = "resolved the incident"
            elif category == "indeterminate" and incident.status in (
                Incident.Status.TRIGGERED,
                Incident.Status.SILENCED,
            ):
                incident_acknowledge(incident_id=incident.pk, actor=actor)
                action = "acknowledged the incident"
        except ValidationError:
            action = ""
        params = {"system": route.system_label, "key": key, "status": status[:100], "action": action}
        incident_event_add(incident=incident, kind=IncidentEvent.Kind.TICKET_CHANGED, actor=actor, params=params)
        return action or "recorded"


def ticket_comment_take(*, route: TicketRoute, link: TicketRouteLink, comment: RemoteComment) -> bool:
    """A comment from the ticket onto the incident's timeline, once; never one AIMS wrote (its account or its
    marker). Returns whether it was taken in."""
    text = comment.text.strip()
    if not route.comment_sync or not text or not comment.id:
        return False
    if route.own_account(comment.author) or COMMENT_MARKER_PATTERN.search(text):
        return False
    key = link.link.key if link.link_id and link.link else ""
    with transaction.atomic():
        try:
            with transaction.atomic():
                TicketComment.objects.create(
                    route_link=link, remote_id=comment.id[:64], direction=TicketComment.Direction.IN
                )
        except IntegrityError:
            return False
        incident_comment(incident_id=link.incident_id, actor=_ticket_actor(route, key), text=text[:MAX_COMMENT])
    return True


# --- Jira webhooks ------------------------------------------------------------------------------------------------


def _object(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


@transaction.atomic
def jira_webhook_take(*, route: TicketRoute, delivery_id: str, payload: Any) -> str:
    """One Jira webhook (jira:issue_updated, comment_created), verified by the caller; taken once per delivery id.
    Returns what was done, in words."""
    payload = _object(payload)
    issue_data = _object(payload.get("issue"))
    if not issue_data:
        return "ignored: no issue"
    issue = issue_of(issue_data)
    link = route_link_find(route=route, correlation=_correlation_of(route, issue.labels), key=issue.key)
    if link is None:
        return "ignored: not a ticket of this route"
    if not delivery_first_seen(route=route, delivery_id=delivery_id):
        return "duplicate"
    event = str(payload.get("webhookEvent", ""))
    if event.startswith("comment_") and event != "comment_created":
        return "ignored: " + event
    if event == "comment_created":
        comment = comment_of(_object(payload.get("comment")))
        taken = ticket_comment_take(
            route=route,
            link=link,
            comment=RemoteComment(id=comment.id, author=comment.author_account_id, text=comment.text, created=None),
        )
        return "comment taken" if taken else "comment not taken"
    user = _object(payload.get("user"))
    author = str(user.get("accountId") or user.get("emailAddress") or "")
    status_changed = any(
        _object(item).get("field") == "status" for item in _object(payload.get("changelog")).get("items") or []
    )
    if not status_changed and not issue.category:
        return "ignored: no status"
    # A change whose author is not named may be AIMS's own: the reconcile poll judges it instead.
    by_person = bool(author) and not route.own_account(author)
    if not author:
        return "left to the reconcile poll: author not named"
    return ticket_status_take(route=route, link=link, status=issue.status, category=issue.category, by_person=by_person)


def _correlation_of(route: TicketRoute, labels: tuple[str, ...]) -> str:
    return next(
        (label for label in labels if (m := CORRELATION.match(label)) and int(m.group(2)) == route.pk),
        "",
    )


# --- ServiceNow callbacks -------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("value", "")
    return "" if value is None else str(value)


@transaction.atomic
def servicenow_callback_take(*, route: TicketRoute, delivery_id: str, payload: Any) -> str:
    """One ServiceNow callback (the incident record, with the journal entry just added when there is one),
    verified by the caller; taken once per delivery. Returns what was done, in words."""
    payload = _object(payload)
    record = _object(payload.get("record"))
    sys_id, number = _text(record.get("sys_id")), _text(record.get("number"))
    if not sys_id:
        return "ignored: no record"
    link = route_link_find(route=route, correlation=_text(record.get("correlation_id")), key=number)
    if link is None:
        return "ignored: not a ticket of this route"
    if not delivery_first_seen(route=route, delivery_id=delivery_id):
        return "duplicate"
    author = _text(payload.get("sys_updated_by") or record.get("sys_updated_by"))
    done = []
    entries = payload.get("journal")
    for entry in entries if isinstance(entries, list) else []:
        entry = _object(entry)
        element, text = _text(entry.get("element")), _text(entry.get("value"))
        if element not in ("work_notes", "comments"):
            continue
        entry_author = _text(entry.get("sys_created_by")) or author
        entry_id = journal_entry_id(
            element=element,
            created_on=servicenow_time(_text(entry.get("sys_created_on"))),
            created_by=entry_author,
            text=text,
        )
        comment = RemoteComment(id=entry_id, author=entry_author, text=text, created=None)
        if ticket_comment_take(route=route, link=link, comment=comment):
            done.append("comment taken")
    state = _text(record.get("state"))
    if state in STATE_CATEGORY:
        by_person = bool(author) and not route.own_account(author)
        if author:
            done.append(
                ticket_status_take(
                    route=route,
                    link=link,
                    status=STATE_WORDS[state],
                    category=STATE_CATEGORY[state],
                    by_person=by_person,
                )
            )
    return "; ".join(done) or "nothing to take"
