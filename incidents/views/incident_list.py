"""The incident list and its bulk actions: filtered, sorted and paged by the query string; a bulk action answers an
htmx request with the list again and one outcome per incident, a plain form post with a redirect (303)."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from aimsweb.http import AuthenticatedHttpRequest
from incidents.forms import form_errors_add, form_problems
from incidents.list_forms import BULK_SCOPE_MATCHING, BULK_SCOPE_SELECTED, IncidentBulkForm
from incidents.pages.incident_list import bulk_outcome_lines, incident_list_matching_ids, incident_list_page
from incidents.services import Actor, incidents_bulk_act
from incidents.services.incidents import INCIDENTS_BULK_MAX
from incidents.views.incidents import HttpResponseSeeOther

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
