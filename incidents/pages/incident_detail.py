"""The incident page: the incident, what it counted (runs, retries, timeline, notifications) and a form for each
action; the page's view and its websocket consumer render from the same context."""

import secrets
from typing import Any

from django import forms
from django.urls import reverse

from incidents.forms import AssignForm, CommentForm, ResolveForm, SilenceForm, TicketForm
from incidents.models import Incident, Occurrence
from incidents.selectors import incident_detail

# The context name of each action's form on the page; an action that failed is shown with its bound form.
ACTION_FORMS: dict[str, type[forms.Form]] = {
    "resolve_form": ResolveForm,
    "assign_form": AssignForm,
    "comment_form": CommentForm,
    "silence_form": SilenceForm,
    "ticket_form": TicketForm,
}


def action_form_auto_id(form_name: str) -> str:
    """Field ids per form, so the page's several forms never share an id."""
    return f"{form_name.removesuffix('_form')}-%s"


def incident_detail_page(incident: Incident, *, bound: dict[str, forms.Form] | None = None) -> dict[str, Any]:
    """What the incident page shows, with empty action forms (or the bound ones of a failed action)."""
    context: dict[str, Any] = {
        "incident": incident,
        "detail": incident_detail(incident=incident),
        "retry_token": secrets.token_urlsafe(24),
        "contract_evidence": contract_check_evidence(incident),
    }
    bound = bound or {}
    for name, form_class in ACTION_FORMS.items():
        if name in bound:
            context[name] = bound[name]
        else:
            initial = {"assignee": incident.serializable_value("assignee")} if name == "assign_form" else None
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
