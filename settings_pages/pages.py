"""The read-only settings pages: one section per kind of setting (retry policies, notification routes and
channels, maintenance windows, runbooks), each a list and a page per row, readable by every role. A section names
the permission to read it, the admin pages where those who may edit it do so, and what is shown of a row: words
and links only, never a channel's URL path, query, credentials or signing secret."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.durations import duration_text
from incidents.models import NotificationChannel, NotificationRoute, Occurrence, Runbook
from monitors.models import MaintenanceWindow
from remediation.models import RetryPolicy
from settings_pages import selectors


@dataclass(frozen=True)
class Link:
    text: str
    url: str = ""
    external: bool = False  # a runbook's own page, opened in a new tab


Cell = list[Link]
Field = tuple[str, Callable[[Any], Cell]]


def _text(value: object) -> Cell:
    return [Link("—" if value in (None, "") else str(value))]


def _yes_no(value: bool) -> Cell:
    return [Link("Yes" if value else "No")]


def _any(values: Iterable[str], choices: dict[str, str], none: str) -> Cell:
    names = [choices.get(value, value) for value in values]
    return [Link(", ".join(names) if names else none)]


def _connection(obj: Any) -> Cell:
    return [Link(obj.connection.name if obj.connection_id else "Every connection")]


def _pattern(pattern: str) -> Cell:
    return [Link(pattern if pattern and pattern != "*" else "Every pipeline")]


def _channel_links(channels: Iterable[NotificationChannel]) -> Cell:
    return [Link(channel.name, reverse("settings_pages:channels-detail", args=[channel.pk])) for channel in channels]


def _route_links(routes: Iterable[NotificationRoute]) -> Cell:
    return [Link(route.name, reverse("settings_pages:routes-detail", args=[route.pk])) for route in routes]


CATEGORIES = dict(ErrorCategory.choices)
SEVERITIES = dict(Severity.choices)
SOURCES = dict(Occurrence.Source.choices)


# --- What each section shows ---------------------------------------------------------------------------------------


def _backoff(policy: RetryPolicy) -> Cell:
    initial = duration_text(timedelta(seconds=policy.backoff_initial_seconds))
    cap = duration_text(timedelta(seconds=policy.backoff_max_seconds))
    return [Link(f"{initial} × {policy.backoff_multiplier:g} per attempt, at most {cap}, ±{policy.jitter:.0%} jitter")]


POLICY_FIELDS: list[Field] = [
    ("Enabled", lambda p: _yes_no(p.enabled)),
    ("Priority", lambda p: _text(f"{p.priority} (lower wins)")),
    ("Connection", _connection),
    ("Pipelines", lambda p: _pattern(p.pipeline_pattern)),
    ("Error classes", lambda p: _any(p.error_classes, CATEGORIES, "None")),
    ("Attempts", lambda p: _text(f"at most {p.max_attempts}")),
    ("Minimum confidence", lambda p: _text(f"{p.min_confidence}%")),
    ("Delays", _backoff),
    ("Rerun", lambda p: _text(p.get_rerun_mode_display())),
    ("Reruns in flight per connection", lambda p: _text(p.max_concurrent_reruns)),
    ("Resolve on a later success", lambda p: _yes_no(p.auto_resolve)),
]


def _escalation(route: NotificationRoute) -> Cell:
    cells: Cell = []
    for step in route.escalation_steps.all():
        cells.append(Link(f"after {step.after_minutes} min:"))
        cells.extend(_channel_links(step.channels.all()))
    return cells or [Link("None")]


ROUTE_FIELDS: list[Field] = [
    ("Enabled", lambda r: _yes_no(r.enabled)),
    ("Connection", _connection),
    ("Pipelines", lambda r: _pattern(r.pipeline_pattern)),
    ("Severities", lambda r: _any(r.severities, SEVERITIES, "Every severity")),
    ("Error classes", lambda r: _any(r.categories, CATEGORIES, "Every class")),
    ("Sources", lambda r: _any(r.sources, SOURCES, "Every source")),
    ("Subjects", lambda r: _text(r.subject_pattern if r.subject_pattern not in ("", "*") else "Every subject")),
    ("Channels", lambda r: _channel_links(r.channels.all()) or [Link("None")]),
    ("Escalation", _escalation),
    ("Page on open", lambda r: _yes_no(r.notify_on_open)),
    ("Tell on resolve", lambda r: _yes_no(r.notify_on_resolve)),
    ("Page while retrying", lambda r: _yes_no(r.notify_while_retrying)),
]


def _target(channel: NotificationChannel) -> Cell:
    """Where it posts, at most the host (the URL's path and query carry the receiver's secret); for email, how many
    addresses (the addresses themselves are not shown)."""
    if channel.kind == NotificationChannel.Kind.EMAIL:
        count = len(channel.recipient_list)
        return [Link(f"{count} email address{'es' if count != 1 else ''}")]
    return _text(channel.url_host or "Not set")


CHANNEL_FIELDS: list[Field] = [
    ("Enabled", lambda c: _yes_no(c.enabled)),
    ("Kind", lambda c: _text(c.get_kind_display())),
    ("Target", _target),
    ("Rate limit", lambda c: _text(f"{c.rate_limit_count} per {c.rate_limit_minutes} min, then a digest")),
    ("Routes", lambda c: _route_links(c.routes.all()) or [Link("None")]),
    (
        "Escalation of",
        lambda c: _route_links(sorted({step.route for step in c.escalation_steps.all()}, key=str)) or [Link("None")],
    ),
]


def _window_state(window: MaintenanceWindow) -> Cell:
    now = timezone.now()
    if window.starts_at <= now < window.ends_at:
        return [Link("Active now")]
    return [Link("Ahead" if now < window.starts_at else "Over")]


def _moment(value) -> Cell:
    return _text(f"{timezone.localtime(value):%Y-%m-%d %H:%M %Z}" if value else None)


MAINTENANCE_FIELDS: list[Field] = [
    ("State", _window_state),
    ("Connection", _connection),
    ("Pipelines", lambda w: _pattern(w.pipeline_pattern)),
    ("Starts", lambda w: _moment(w.starts_at)),
    ("Ends", lambda w: _moment(w.ends_at)),
    ("No pages", lambda w: _yes_no(w.suppress_notifications)),
    ("No reruns", lambda w: _yes_no(w.suppress_retries)),
    ("Reason", lambda w: _text(w.reason)),
    ("Set by", lambda w: _text(w.created_by.get_username() if w.created_by else "")),
]


def _runbook_link(runbook: Runbook) -> Cell:
    return [Link(runbook.safe_url, runbook.safe_url, external=True)] if runbook.safe_url else [Link("Refused link")]


RUNBOOK_FIELDS: list[Field] = [
    ("Enabled", lambda r: _yes_no(r.enabled)),
    ("Link", _runbook_link),
    ("Pipelines", lambda r: _text(r.pipeline_pattern or "Any")),
    ("Error class", lambda r: _text(r.get_category_display() or "Any")),
    ("Connection", _connection),
]


@dataclass(frozen=True)
class Section:
    key: str  # URL segment and URL name prefix
    title: str
    singular: str
    intro: str
    model: type[Model]
    rows: Callable[[], QuerySet]
    fields: list[Field]
    list_columns: int  # how many of the fields the list shows

    @property
    def view_permission(self) -> str:
        return f"{self.model._meta.app_label}.view_{self.model._meta.model_name}"

    @property
    def change_permission(self) -> str:
        return f"{self.model._meta.app_label}.change_{self.model._meta.model_name}"

    def admin_url(self, pk: int | None = None) -> str:
        meta = self.model._meta
        if pk is None:
            return reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[pk])


SECTIONS: dict[str, Section] = {
    section.key: section
    for section in (
        Section(
            "policies",
            "Retry policies",
            "Retry policy",
            "Which failures AIMS reruns by itself, how often and how fast. The analysis advises; a policy decides.",
            RetryPolicy,
            selectors.policy_list,
            POLICY_FIELDS,
            6,
        ),
        Section(
            "routes",
            "Notification routes",
            "Notification route",
            "Which incidents page which channels, and whom an unacknowledged page escalates to.",
            NotificationRoute,
            selectors.route_list,
            ROUTE_FIELDS,
            8,
        ),
        Section(
            "channels",
            "Notification channels",
            "Notification channel",
            "Where pages go. Webhook addresses and signing secrets are never shown: only the host they post to.",
            NotificationChannel,
            selectors.channel_list,
            CHANNEL_FIELDS,
            5,
        ),
        Section(
            "maintenance",
            "Maintenance windows",
            "Maintenance window",
            "Planned quiet periods: failures are still recorded, but page nobody and are not rerun.",
            MaintenanceWindow,
            selectors.maintenance_window_list,
            MAINTENANCE_FIELDS,
            7,
        ),
        Section(
            "runbooks",
            "Runbooks",
            "Runbook",
            "What to do, per pipeline pattern, error class and connection; the incident page and every page sent "
            "show the most specific one.",
            Runbook,
            selectors.runbook_list,
            RUNBOOK_FIELDS,
            5,
        ),
    )
}


def _name(obj: Model) -> str:
    return str(getattr(obj, "title", None) or getattr(obj, "name", None) or obj)


def settings_index_page(*, user) -> dict[str, Any]:
    """The sections this user may read."""
    return {
        "sections": [section for section in SECTIONS.values() if user.has_perm(section.view_permission)],
    }


def settings_list_page(section: Section, *, user) -> dict[str, Any]:
    """A section's rows (at most LIST_LIMIT) with its first columns, each row linking to its page."""
    rows = list(section.rows()[: selectors.LIST_LIMIT + 1])
    fields = section.fields[: section.list_columns]
    return {
        "section": section,
        "sections": settings_index_page(user=user)["sections"],
        "headers": [label for label, _ in fields],
        "rows": [
            {
                "name": _name(obj),
                "url": reverse(f"settings_pages:{section.key}-detail", args=[obj.pk]),
                "cells": [cell(obj) for _, cell in fields],
            }
            for obj in rows[: selectors.LIST_LIMIT]
        ],
        "truncated": len(rows) > selectors.LIST_LIMIT,
        "edit_url": section.admin_url() if user.has_perm(section.change_permission) else "",
    }


def settings_detail_page(section: Section, obj: Model, *, user) -> dict[str, Any]:
    """One row, every field."""
    return {
        "section": section,
        "sections": settings_index_page(user=user)["sections"],
        "name": _name(obj),
        "facts": [(label, cell(obj)) for label, cell in section.fields],
        "edit_url": section.admin_url(obj.pk) if user.has_perm(section.change_permission) else "",
        "updated_at": getattr(obj, "updated_at", None),
    }
