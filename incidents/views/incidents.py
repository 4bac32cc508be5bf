"""Pages of incidents: the list, and one incident's page with the actions the user's role allows. Actions answer an
htmx request with the page's main partial, a plain form post with a redirect (303); bad input gets a 400 page
that names the field."""

import secrets
from collections.abc import Callable

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from incidents.forms import (
    AssignForm,
    CommentForm,
    ResolveForm,
    RetryForm,
    SilenceForm,
    TicketForm,
    form_errors_add,
    form_problems,
)
from incidents.models import Incident
from incidents.selectors import incident_detail, incident_get, incident_list, incident_run_get
from incidents.services import (
    Actor,
    incident_acknowledge,
    incident_assign,
    incident_comment,
    incident_reopen,
    incident_resolve,
    incident_silence,
    incident_ticket_link,
    incident_unsilence,
    pipeline_run_retry,
)

DETAIL = "incidents/incident_detail.html"
# The context name of each action's form on the page; an action that failed is shown with its bound form.
ACTION_FORMS = {
    "resolve_form": ResolveForm,
    "assign_form": AssignForm,
    "comment_form": CommentForm,
    "silence_form": SilenceForm,
    "ticket_form": TicketForm,
}


def _auto_id(form_name: str) -> str:
    """Field ids per form, so the page's several forms never share an id."""
    return f"{form_name.removesuffix('_form')}-%s"


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


@permission_required("incidents.view_incident", raise_exception=True)
def incident_list_view(request: HttpRequest) -> HttpResponse:
    """The incident list: the whole page, or only its rows for an htmx request."""
    template = "incidents/incident_list.html#rows" if request.htmx else "incidents/incident_list.html"
    return render(request, template, {"incidents": incident_list()})


def _incident_or_404(incident_id: int) -> Incident:
    incident = incident_get(incident_id=incident_id)
    if incident is None:
        raise Http404("No such incident.")
    return incident


def _page(
    request: HttpRequest,
    incident: Incident,
    *,
    action: str = "",
    problems: list[str] | None = None,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The incident page (only its main partial for htmx), with the failed action's errors when there are."""
    context = {**detail_context(incident, bound=bound), "failed_action": action, "problems": problems or []}
    response = render(request, f"{DETAIL}#main" if request.htmx else DETAIL, context, status=status)
    if request.htmx and problems:
        # Bring the error banner into view (the page's hx-on handler lets htmx swap this 400 in).
        response["HX-Reswap"] = "outerHTML show:#incident-problems:top"
    return response


def detail_context(incident: Incident, *, bound: dict[str, forms.Form] | None = None) -> dict:
    """What the incident page shows, with empty action forms (or the bound ones of a failed action); also what its
    websocket consumer re-renders the live parts from."""
    context = {
        "incident": incident,
        "detail": incident_detail(incident=incident),
        "retry_token": secrets.token_urlsafe(24),
    }
    bound = bound or {}
    for name, form_class in ACTION_FORMS.items():
        if name in bound:
            context[name] = bound[name]
        else:
            initial = {"assignee": incident.assignee_id} if name == "assign_form" else None
            context[name] = form_class(auto_id=_auto_id(name), initial=initial)
    return context


def _act(
    request: HttpRequest,
    incident_id: int,
    *,
    action: str,
    apply: Callable[[dict], object],
    form_name: str = "",
    form_class: type[forms.Form] | None = None,
) -> HttpResponse:
    """Validate the posted form (if the action has one), call the service, and answer."""
    incident = _incident_or_404(incident_id)
    form_class = form_class or ACTION_FORMS.get(form_name)
    form = form_class(request.POST, auto_id=_auto_id(form_name or "action")) if form_class else None
    bound = {form_name: form} if form_name else {}
    if form is not None and not form.is_valid():
        return _page(request, incident, action=action, problems=form_problems(form), bound=bound, status=400)
    try:
        apply(form.cleaned_data if form is not None else {})
    except ValidationError as error:
        if form is None:
            return _page(request, incident, action=action, problems=error.messages, status=400)
        form_errors_add(form, error)
        return _page(request, incident, action=action, problems=form_problems(form), bound=bound, status=400)
    if request.htmx:
        return _page(request, _incident_or_404(incident_id))
    return HttpResponseSeeOther(incident.get_absolute_url())


@permission_required("incidents.view_incident", raise_exception=True)
def incident_detail_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    """One incident: what failed, the analysis, runs and retries, timeline and notifications."""
    return _page(request, _incident_or_404(incident_id))


@permission_required("incidents.acknowledge_incident", raise_exception=True)
@require_POST
def incident_acknowledge_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="acknowledge",
        apply=lambda data: incident_acknowledge(incident_id=incident_id, actor=actor),
    )


@permission_required("incidents.resolve_incident", raise_exception=True)
@require_POST
def incident_resolve_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="resolve",
        form_name="resolve_form",
        apply=lambda data: incident_resolve(incident_id=incident_id, actor=actor, note=data["note"]),
    )


@permission_required("incidents.resolve_incident", raise_exception=True)
@require_POST
def incident_reopen_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="reopen",
        apply=lambda data: incident_reopen(incident_id=incident_id, actor=actor),
    )


@permission_required("incidents.assign_incident", raise_exception=True)
@require_POST
def incident_assign_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="assign",
        form_name="assign_form",
        apply=lambda data: incident_assign(incident_id=incident_id, actor=actor, assignee=data["assignee"]),
    )


@permission_required("incidents.comment_incident", raise_exception=True)
@require_POST
def incident_comment_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="comment",
        form_name="comment_form",
        apply=lambda data: incident_comment(incident_id=incident_id, actor=actor, text=data["text"]),
    )


@permission_required("incidents.silence_incident", raise_exception=True)
@require_POST
def incident_silence_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="silence",
        form_name="silence_form",
        apply=lambda data: incident_silence(
            incident_id=incident_id, actor=actor, until=data["until"], reason=data["reason"]
        ),
    )


@permission_required("incidents.silence_incident", raise_exception=True)
@require_POST
def incident_unsilence_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="end the silence",
        apply=lambda data: incident_unsilence(incident_id=incident_id, actor=actor),
    )


@permission_required("incidents.link_ticket_incident", raise_exception=True)
@require_POST
def incident_ticket_view(request: HttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="link the ticket",
        form_name="ticket_form",
        apply=lambda data: incident_ticket_link(
            incident_id=incident_id, actor=actor, system=data["system"], key=data["key"], url=data["url"]
        ),
    )


@permission_required("monitors.retry_pipelinerun", raise_exception=True)
@require_POST
def incident_run_retry_view(request: HttpRequest, incident_id: int, run_id: int) -> HttpResponse:
    """Retry a failed run of this incident now; the form's token makes a double submit one attempt."""
    run = incident_run_get(incident_id=incident_id, run_id=run_id)
    if run is None:
        raise Http404("No such run in this incident.")
    return _act(
        request,
        incident_id,
        action=f"retry run {run.external_run_id}",
        form_class=RetryForm,
        apply=lambda data: pipeline_run_retry(
            run_id=run.pk, user=request.user, request_key=f"{request.user.pk}-{run.pk}-{data['request_key']}"
        ),
    )
