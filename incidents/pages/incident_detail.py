"""The incident page: the incident, what it counted (runs, retries, timeline, notifications) and a form for each
action; the page's view and its websocket consumer render from the same context."""

import secrets
from typing import Any

from django import forms

from incidents.forms import AssignForm, CommentForm, ResolveForm, SilenceForm, TicketForm
from incidents.models import Incident
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
    }
    bound = bound or {}
    for name, form_class in ACTION_FORMS.items():
        if name in bound:
            context[name] = bound[name]
        else:
            initial = {"assignee": incident.serializable_value("assignee")} if name == "assign_form" else None
            context[name] = form_class(auto_id=action_form_auto_id(name), initial=initial)
    return context
