"""Reads for the read-only settings pages: each list and each row with its relations fetched up front (a fixed
number of queries per page). Channels never load their encrypted URL or signing secret."""

from django.db.models import Prefetch, QuerySet

from incidents.models import EscalationStep, NotificationChannel, NotificationRoute, Runbook
from monitors.models import MaintenanceWindow
from remediation.models import RetryPolicy

LIST_LIMIT = 500
# What a page may show of a channel: never `url_encrypted` or `signing_secret_encrypted`.
CHANNEL_FIELDS = ("id", "name", "kind", "url_host", "recipients", "rate_limit_count", "rate_limit_minutes", "enabled")


def policy_list() -> QuerySet[RetryPolicy]:
    return RetryPolicy.objects.select_related("connection").order_by("priority", "name")


def _channels() -> QuerySet[NotificationChannel]:
    return NotificationChannel.objects.only(*CHANNEL_FIELDS).order_by("name")


def route_list() -> QuerySet[NotificationRoute]:
    steps = EscalationStep.objects.order_by("after_minutes").prefetch_related(Prefetch("channels", _channels()))
    return (
        NotificationRoute.objects.select_related("connection")
        .prefetch_related(Prefetch("channels", _channels()), Prefetch("escalation_steps", steps))
        .order_by("name")
    )


def channel_list() -> QuerySet[NotificationChannel]:
    return _channels().prefetch_related(
        Prefetch("routes", NotificationRoute.objects.only("id", "name").order_by("name")),
        Prefetch(
            "escalation_steps", EscalationStep.objects.select_related("route").only("id", "route__name", "route_id")
        ),
    )


def maintenance_window_list() -> QuerySet[MaintenanceWindow]:
    return MaintenanceWindow.objects.select_related("connection", "created_by").order_by("-starts_at", "-id")


def runbook_list() -> QuerySet[Runbook]:
    return Runbook.objects.select_related("connection").order_by("title", "id")
