"""Pages of incidents: the list, and one incident's page with the actions the user's role allows. Actions answer an
htmx request with the page's main partial, a plain form post with a redirect (303); bad input gets a 400 page
that names the field."""

from collections.abc import Callable
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aimsweb.http import AuthenticatedHttpRequest
from incidents.forms import (
    BULK_SCOPE_MATCHING,
    BULK_SCOPE_SELECTED,
    IncidentBulkForm,
    RetryCancelForm,
    RetryForm,
    form_errors_add,
    form_problems,
)
from incidents.models import Incident
from incidents.pages.incident_detail import ACTION_FORMS, action_form_auto_id, incident_detail_page
from incidents.pages.incident_list import bulk_outcome_lines, incident_list_matching_ids, incident_list_page
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
    incidents_bulk_act,
    pipeline_run_retry_by_hand,
)
from incidents.services.incidents import INCIDENTS_BULK_MAX
from remediation.models import RetryAttempt

DETAIL = "incidents/incident_detail.html"


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


LIST = "incidents/incident_list.html"
BULK_PERMISSIONS = {
    "acknowledge": "incidents.acknowledge_incident",
    "resolve": "incidents.resolve_incident",
    "silence": "incidents.silence_incident",
    "assign": "incidents.assign_incident",
    "comment": "incidents.comment_incident",
}
BULK_DONE = {
    "acknowledge": "Acknowledged",
    "resolve": "Resolved",
    "silence": "Silenced",
    "assign": "Assigned",
    "comment": "Commented on",
}


def _list_page(
    request: AuthenticatedHttpRequest,
    params: QueryDict,
    *,
    notice: str = "",
    problems: list[str] | None = None,
    outcomes: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """The incident list for these filters: the whole page, or its results partial for htmx (a boosted link, which
    swaps the body, gets the page)."""
    page = incident_list_page(params=params, user=request.user)
    context = {**page, "notice": notice, "bulk_problems": problems or [], "bulk_outcomes": outcomes or []}
    partial = request.htmx and not request.htmx.boosted
    response = render(request, f"{LIST}#results" if partial else LIST, context, status=status)
    if partial and request.method == "GET":
        # The filter form sent every field, blank ones too: show the canonical, shareable URL instead.
        response["HX-Push-Url"] = page["list_url"]
    return response


@permission_required("incidents.view_incident", raise_exception=True)
def incident_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The incident list, filtered, sorted and paged by the query string."""
    return _list_page(request, request.GET)


def _next_url(request: AuthenticatedHttpRequest) -> str:
    """Where the bulk form came from (the list with its filters), if it is a URL of this site; else the list."""
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("incidents:list")


def _bulk_outcome(action: str, result: dict) -> str:
    """E.g. "Acknowledged 3, skipped 1 (already resolved)"."""
    outcome = f"{BULK_DONE[action]} {result['done']}"
    if not result["skipped"]:
        return f"{outcome}."
    reasons = result["reasons"]
    why = next(iter(reasons)) if len(reasons) == 1 else ", ".join(f"{n} {reason}" for reason, n in reasons.items())
    return f"{outcome}, skipped {result['skipped']} ({why})."


def _bulk_data(request: AuthenticatedHttpRequest) -> QueryDict:
    """The bulk form's post; a row's one-tap Acknowledge (its button posts `one` = the incident's id) acts on that
    incident alone, whatever else is ticked."""
    data: QueryDict = request.POST
    if "one" in data:
        data = data.copy()
        data.setlist("ids", [data.get("one", "")])
        data["action"] = "acknowledge"
        data["scope"] = BULK_SCOPE_SELECTED
    return data


@permission_required("incidents.view_incident", raise_exception=True)
@require_POST
def incident_bulk_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Act on the incidents ticked on the list (or every one its filters match, up to INCIDENTS_BULK_MAX), then show
    the list again with the same filters and one outcome per incident."""
    data = _bulk_data(request)
    # Checked before the input: a forged post by someone without the right changes nothing and learns nothing.
    action = data.get("action", "")
    needed = [BULK_PERMISSIONS[action]] if action in BULK_PERMISSIONS else BULK_PERMISSIONS.values()
    if not any(request.user.has_perm(permission) for permission in needed):
        raise PermissionDenied
    next_url = _next_url(request)
    params = QueryDict(urlsplit(next_url).query)
    form = IncidentBulkForm(data)
    if not form.is_valid():
        return _list_page(request, params, problems=form_problems(form), status=400)
    cleaned = form.cleaned_data
    ids = cleaned["ids"]
    if cleaned["scope"] == BULK_SCOPE_MATCHING:
        ids, matching = incident_list_matching_ids(params=params, user=request.user, limit=INCIDENTS_BULK_MAX)
        if matching > INCIDENTS_BULK_MAX:
            problem = (
                f"Apply to: {matching} incidents match these filters; at most {INCIDENTS_BULK_MAX} at a time. "
                "Narrow the filters (a time range, a status) and try again."
            )
            return _list_page(request, params, problems=[problem], status=400)
    try:
        result = incidents_bulk_act(
            incident_ids=ids,
            action=cleaned["action"],
            actor=Actor.of_user(request.user),
            until=cleaned.get("until"),
            reason=cleaned.get("reason") or "",
            assignee=cleaned.get("assignee"),
            text=cleaned.get("text") or "",
        )
    except ValidationError as error:
        form_errors_add(form, error)
        return _list_page(request, params, problems=form_problems(form), status=400)
    outcome = _bulk_outcome(cleaned["action"], result)
    if request.htmx:
        return _list_page(request, params, notice=outcome, outcomes=bulk_outcome_lines(result["outcomes"]))
    messages.success(request, outcome)
    return HttpResponseSeeOther(next_url)


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
