"""Pages of incidents: one incident's page with the actions the user's role allows. Actions answer an
htmx request with the page's main partial, a plain form post with a redirect (303); bad input gets a 400 page
that names the field."""

from collections.abc import Callable

from django import forms
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from aimsweb.http import AuthenticatedHttpRequest
from incidents.forms import RetryCancelForm, RetryForm, form_errors_add, form_problems
from incidents.models import Incident
from incidents.pages.incident_detail import ACTION_FORMS, action_form_auto_id, incident_detail_page
from incidents.selectors import incident_get, incident_run_get
from incidents.services import (
    Actor,
    RetryNotAdvised,
    incident_acknowledge,
    incident_assign,
    incident_comment,
    incident_reopen,
    incident_resolve,
    incident_retry_cancel,
    incident_silence,
    incident_ticket_link,
    incident_unsilence,
    incident_update,
    pipeline_run_retry_by_hand,
)
from remediation.models import RetryAttempt

DETAIL = "incidents/incident_detail.html"


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


def _incident_or_404(incident_id: int) -> Incident:
    incident = incident_get(incident_id=incident_id)
    if incident is None:
        raise Http404("No such incident.")
    return incident


def _page(
    request: AuthenticatedHttpRequest,
    incident: Incident,
    *,
    action: str = "",
    problems: list[str] | None = None,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
    extra: dict | None = None,
) -> HttpResponse:
    """The incident page (only its main partial for htmx), with the failed action's errors when there are."""
    context = {
        **incident_detail_page(incident, bound=bound),
        "failed_action": action,
        "problems": problems or [],
        **(extra or {}),
    }
    response = render(request, f"{DETAIL}#main" if request.htmx else DETAIL, context, status=status)
    if request.htmx and problems:
        # Bring the error banner into view (aims.js lets htmx swap this 400 in, see data-swap-bad-request).
        response["HX-Reswap"] = "outerHTML show:#incident-problems:top"
    return response


def _act(
    request: AuthenticatedHttpRequest,
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
    form = form_class(request.POST, auto_id=action_form_auto_id(form_name or "action")) if form_class else None
    bound = {form_name: form} if form_name and form is not None else {}
    if form is not None and not form.is_valid():
        return _page(request, incident, action=action, problems=form_problems(form), bound=bound, status=400)
    try:
        apply(form.cleaned_data if form is not None else {})
    except RetryNotAdvised:
        raise  # not a mistake in the input: the retry view asks for a confirmation
    except ValidationError as error:
        if form is None:
            return _page(request, incident, action=action, problems=error.messages, status=400)
        form_errors_add(form, error)
        return _page(request, incident, action=action, problems=form_problems(form), bound=bound, status=400)
    if request.htmx:
        return _page(request, _incident_or_404(incident_id))
    return HttpResponseSeeOther(incident.get_absolute_url())


@permission_required("incidents.view_incident", raise_exception=True)
def incident_detail_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    """One incident: what failed, the analysis, runs and retries, timeline and notifications."""
    return _page(request, _incident_or_404(incident_id))


@permission_required("incidents.acknowledge_incident", raise_exception=True)
@require_POST
def incident_acknowledge_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="acknowledge",
        apply=lambda data: incident_acknowledge(incident_id=incident_id, actor=actor),
    )


@permission_required("incidents.resolve_incident", raise_exception=True)
@require_POST
def incident_resolve_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
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
def incident_reopen_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="reopen",
        apply=lambda data: incident_reopen(incident_id=incident_id, actor=actor),
    )


@permission_required("incidents.assign_incident", raise_exception=True)
@require_POST
def incident_assign_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="assign",
        form_name="assign_form",
        apply=lambda data: incident_assign(incident_id=incident_id, actor=actor, assignee=data["assignee"]),
    )


# As the API's PATCH: whoever may assign an incident (a Responder) may retitle it.
@permission_required("incidents.assign_incident", raise_exception=True)
@require_POST
def incident_title_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="change the title",
        form_name="title_form",
        apply=lambda data: incident_update(incident_id=incident_id, actor=actor, title=data["title"]),
    )


@permission_required("incidents.comment_incident", raise_exception=True)
@require_POST
def incident_comment_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
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
def incident_silence_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
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
def incident_unsilence_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    actor = Actor.of_user(request.user)
    return _act(
        request,
        incident_id,
        action="end the silence",
        apply=lambda data: incident_unsilence(incident_id=incident_id, actor=actor),
    )


@permission_required("incidents.link_ticket_incident", raise_exception=True)
@require_POST
def incident_ticket_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
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


RETRY_CONFIRM = "incidents/includes/run_retry.html"


@permission_required("monitors.retry_pipelinerun", raise_exception=True)
@require_POST
def incident_run_retry_view(request: AuthenticatedHttpRequest, incident_id: int, run_id: int) -> HttpResponse:
    """Retry a failed run of this incident now; the form's token makes a double submit one attempt. A retry the
    analysis advises against is first answered with a confirmation (its reason, "Retry anyway" / "Cancel"): only a
    post with `confirm` starts it."""
    run = incident_run_get(incident_id=incident_id, run_id=run_id)
    if run is None:
        raise Http404("No such run in this incident.")

    def apply(data: dict) -> object:
        return pipeline_run_retry_by_hand(
            run_id=run.pk,
            user=request.user,
            request_key=f"{request.user.pk}-{run.pk}-{data['request_key']}",
            confirmed=data["confirm"],
        )

    try:
        return _act(request, incident_id, action=f"retry run {run.external_run_id}", form_class=RetryForm, apply=apply)
    except RetryNotAdvised as refusal:
        confirm = {"run_id": run.pk, "reason": refusal.reason, "request_key": request.POST.get("request_key", "")}
        if not request.htmx:
            return _page(request, _incident_or_404(incident_id), extra={"retry_confirm": confirm})
        run.retry_pending = False  # type: ignore[attr-defined]  # refused: nothing is pending
        context = {"incident": _incident_or_404(incident_id), "run": run, "retry_confirm": confirm}
        response = render(request, RETRY_CONFIRM, context)
        response["HX-Retarget"] = f"#run-retry-{run.pk}"
        response["HX-Reswap"] = "outerHTML"
        return response


@permission_required("monitors.retry_pipelinerun", raise_exception=True)
@require_POST
def incident_retry_cancel_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    """Cancel a scheduled retry of a run of this incident (an attempt of another incident is a 404)."""
    incident = _incident_or_404(incident_id)
    form = RetryCancelForm(request.POST)
    if not form.is_valid():
        return _page(request, incident, action="cancel the retry", problems=form_problems(form), status=400)
    try:
        incident_retry_cancel(incident_id=incident.pk, attempt_id=form.cleaned_data["attempt"], user=request.user)
    except RetryAttempt.DoesNotExist as missing:
        raise Http404("No such retry in this incident.") from missing
    except ValidationError as error:
        return _page(request, incident, action="cancel the retry", problems=error.messages, status=400)
    if request.htmx:
        return _page(request, _incident_or_404(incident_id))
    return HttpResponseSeeOther(incident.get_absolute_url())
