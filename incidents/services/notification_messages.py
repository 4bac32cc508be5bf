"""The message a notification sends: an incident's page, change or resolve in words (redacted), with its runbook
and acknowledge link, or a digest of what a channel held back."""

from django.conf import settings

from aimsweb.redact import redact
from incidents.ack_links import ack_url
from incidents.models import Incident, IncidentPipeline, Notification, Runbook
from incidents.notify.base import DigestItem, NotificationMessage
from incidents.selectors.context import incident_runbooks

# The events that page a person: their messages carry the acknowledge link.
PAGE_EVENTS = (Notification.Event.OPENED, Notification.Event.REOPENED, Notification.Event.ESCALATED)


def notification_message(notification: Notification) -> NotificationMessage:
    """What a channel sends for a notification: the incident in words (redacted), or a digest of what was held."""
    if notification.incident_id is None:
        items = tuple(
            DigestItem(
                title=held.incident.title if held.incident else held.headline,
                event=held.event,
                severity=held.incident.severity if held.incident else "",
                url=_url(held.incident),
            )
            for held in notification.held_items.select_related("incident").order_by("created_at", "id")
        )
        return NotificationMessage(
            event=Notification.Event.DIGEST,
            headline=notification.headline,
            title=notification.headline,
            severity="",
            status="",
            category="",
            summary=f"{len(items)} notification(s) were held back by this channel's rate limit.",
            root_cause="",
            error="",
            pipeline="",
            connection="",
            failed_step="",
            occurrences=len(items),
            url=f"{settings.AIMS_BASE_URL}/incidents/",
            digest_items=items,
        )
    incident = notification.incident
    assert incident is not None  # a digest, the one notification without an incident, was built above
    evidence = incident.latest_occurrence.evidence if incident.latest_occurrence else {}
    runbook = _runbook(incident)
    return NotificationMessage(
        event=notification.event,
        headline=redact(notification.headline),
        title=redact(incident.title),
        severity=incident.severity,
        status=incident.get_status_display(),
        category=incident.get_category_display(),
        summary=_text(evidence, "summary"),
        root_cause=_text(evidence, "root_cause"),
        error=redact(_text(evidence, "error")),
        pipeline=_pipelines_text(incident),
        connection=incident.connection.name if incident.connection else "",
        failed_step=redact(_text(evidence, "failed_step")),
        occurrences=incident.occurrence_count,
        url=_url(incident),
        incident_id=incident.pk,
        actions=tuple(str(action) for action in evidence.get("recommended_actions") or () if action),
        ack_url=ack_url(incident_id=incident.pk, generation=notification.generation, user_id=notification.recipient_id)
        if notification.event in PAGE_EVENTS
        else "",
        mention_name=notification.recipient.get_username() if notification.recipient else "",
        mention_id=notification.recipient_address if notification.channel.kind != "email" else "",
        runbook_title=runbook.title if runbook else "",
        runbook_url=runbook.safe_url if runbook else "",
    )


def _pipelines_text(incident: Incident) -> str:
    """The incident's pipeline, and how many pipelines a storm's incident counts as they are when the page is sent."""
    name = incident.pipeline.name if incident.pipeline else ""
    affected = IncidentPipeline.objects.filter(incident=incident).count() if name else 0
    return f"{name} and {affected - 1} more ({affected} pipelines affected)" if affected > 1 else name


def _runbook(incident: Incident) -> Runbook | None:
    """The most specific runbook that applies and may be a link."""
    return next((runbook for runbook in incident_runbooks(incident=incident) if runbook.safe_url), None)


def _text(evidence: dict, key: str) -> str:
    """A text of an occurrence's evidence (whatever a source stored there, a string comes out)."""
    value = evidence.get(key)
    return value if isinstance(value, str) else "" if value is None else str(value)


def _url(incident: Incident | None) -> str:
    return settings.AIMS_BASE_URL + (incident.get_absolute_url() if incident else "/incidents/")
