"""The incident page: the incident, what it counted (runs, retries, timeline, notifications) and a form for each
action; the page's view and its websocket consumer render from the same context."""

import secrets
from datetime import datetime
from typing import Any

from django import forms
from django.urls import reverse

from aimsweb.charts import band_chart
from incidents.forms import AssignForm, CommentForm, ResolveForm, SilenceForm, TicketForm, TitleForm
from incidents.models import Incident, Occurrence
from incidents.pages.incident_context import incident_context_panel
from incidents.pages.incident_parts import incident_parts_page
from incidents.pages.notifications import incident_notification_rows
from incidents.pages.retries import retry_card
from incidents.pages.timeline_links import events_linked
from incidents.selectors import incident_detail

# The context name of each action's form on the page; an action that failed is shown with its bound form.
ACTION_FORMS: dict[str, type[forms.Form]] = {
    "resolve_form": ResolveForm,
    "assign_form": AssignForm,
    "comment_form": CommentForm,
    "silence_form": SilenceForm,
    "ticket_form": TicketForm,
    "title_form": TitleForm,
}


def action_form_auto_id(form_name: str) -> str:
    """Field ids per form, so the page's several forms never share an id."""
    return f"{form_name.removesuffix('_form')}-%s"


def incident_detail_page(incident: Incident, *, bound: dict[str, forms.Form] | None = None) -> dict[str, Any]:
    """What the incident page shows, with empty action forms (or the bound ones of a failed action)."""
    detail = incident_detail(incident=incident)
    events_linked(detail.events)
    context: dict[str, Any] = {
        "incident": incident,
        "detail": detail,
        "retry_card": retry_card(detail.attempts),
        "notification_rows": incident_notification_rows(incident, detail.notifications),
        "retry_token": secrets.token_urlsafe(24),
        "contract_evidence": contract_check_evidence(incident),
        "anomaly_evidence": anomaly_evidence(incident),
        "missed_run_evidence": missed_run_evidence(incident),
        "incident_context": incident_context_panel(incident),
        "parts": incident_parts_page(incident, merge_form=(bound or {}).get("merge_form")),
    }
    bound = bound or {}
    for name, form_class in ACTION_FORMS.items():
        if name in bound:
            context[name] = bound[name]
        else:
            initial = {
                "assign_form": {"assignee": incident.serializable_value("assignee")},
                "title_form": {"title": incident.title},
            }.get(name)
            context[name] = form_class(auto_id=action_form_auto_id(name), initial=initial)
    return context


def contract_check_evidence(incident: Incident) -> dict[str, Any] | None:
    """For an incident a contract check reported: its latest evidence with links to the contract's page (by URL
    name: the contracts app sits above this one), the check in its history, and the producing run's pipeline."""
    occurrence = incident.latest_occurrence
    if occurrence is None or occurrence.source != Occurrence.Source.CONTRACT_CHECK:
        return None
    evidence = occurrence.evidence or {}
    contract_id, check_id = evidence.get("contract_id"), evidence.get("check_run")
    contract_url = reverse("contracts:detail", args=[contract_id]) if isinstance(contract_id, int) else ""
    run = occurrence.run
    return {
        "contract": evidence.get("contract", ""),
        "contract_url": contract_url,
        "version": evidence.get("version"),
        "check_run": check_id,
        "check_url": f"{contract_url}#check-{check_id}" if contract_url and isinstance(check_id, int) else "",
        "table": evidence.get("table", ""),
        "rows": evidence.get("rows"),
        "producing_run": run.external_run_id if run else evidence.get("producing_run"),
        "pipeline_url": reverse("monitors:pipeline-detail", args=[run.pipeline_id]) if run else "",
        "rules": [
            {"rule": rule.get("rule", ""), "message": rule.get("message", ""), "samples": _samples(rule.get("sample"))}
            for rule in evidence.get("rules") or []
            if isinstance(rule, dict)
        ],
    }


def _samples(sample: Any) -> list[str]:
    """A broken rule's sample values ({"value", "rows"} each, masked at the source) as text."""
    items = sample if isinstance(sample, list) else []
    return [str(item.get("value")) if isinstance(item, dict) else str(item) for item in items]


# The occurrence source the insights app (a higher layer) registers for missed runs.
MISSED_RUN = "missed_run"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _change(value: float | None, expected: float | None) -> str:
    """How far the value is from what was expected, in words."""
    if value is None or expected is None:
        return ""
    if expected:
        percent = round((value - expected) / abs(expected) * 100)
        return f"{abs(percent)} % {'above' if percent > 0 else 'below'} expected" if percent else "as expected"
    return "above expected" if value > expected else "below expected" if value < expected else "as expected"


def anomaly_evidence(incident: Incident) -> dict[str, Any] | None:
    """For an incident an anomaly opened: its latest evidence (the series around the point and its band, the
    season, the producing run) as a band chart and facts, with a link to the series' page by URL name (the insights
    app sits above this one) and to the producing run's pipeline."""
    occurrence = incident.latest_occurrence
    if occurrence is None or occurrence.source != Occurrence.Source.ANOMALY:
        return None
    evidence = occurrence.evidence or {}
    series_id = evidence.get("series_id")
    value, expected = _number(evidence.get("value")), _number(evidence.get("expected"))
    run = occurrence.run
    points = evidence.get("points")
    return {
        "series_url": reverse("insights:series", args=[series_id]) if isinstance(series_id, int) else "",
        "label": occurrence.subject_label,
        "t": _moment(evidence.get("t")),
        "value": value,
        "expected": expected,
        "low": _number(evidence.get("low")),
        "high": _number(evidence.get("high")),
        "change": _change(value, expected),
        "season": evidence.get("season_words") or evidence.get("season") or "",
        "producing_run": run.external_run_id if run else evidence.get("producing_run"),
        "pipeline_url": reverse("monitors:pipeline-detail", args=[run.pipeline_id]) if run else "",
        "chart": band_chart([p for p in points if isinstance(p, dict)] if isinstance(points, list) else []),
    }


def missed_run_evidence(incident: Incident) -> dict[str, Any] | None:
    """For an incident a missed run opened: when the run was expected, by which schedule, and the tolerance."""
    occurrence = incident.latest_occurrence
    if occurrence is None or occurrence.source != MISSED_RUN:
        return None
    evidence = occurrence.evidence or {}
    return {
        "expected_at": _moment(evidence.get("expected_at")),
        "schedule": evidence.get("schedule", ""),
        "schedule_name": evidence.get("schedule_name", ""),
        "cron": evidence.get("cron", ""),
        "timezone": evidence.get("timezone", ""),
        "tolerance_minutes": evidence.get("tolerance_minutes"),
        "pipeline_url": reverse("monitors:pipeline-detail", args=[occurrence.pipeline_id])
        if occurrence.pipeline_id
        else "",
    }


def _moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
