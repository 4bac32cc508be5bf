"""Pages of the contracts app: the contract list and a contract's page, for every role, and "Check now" for those
who may ask for a check. A page answers an htmx request with its partial; "Check now" answers a plain form post
with a redirect (303) and a message, an htmx post with the page's header partial."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from aimsweb.htmx import partial_only
from aimsweb.http import AuthenticatedHttpRequest
from aimsweb.querystring import positive_int
from contracts.models import DataContract
from contracts.pages.contract_detail import CHECK_PERMISSION, check_blocked_reason, contract_detail_page
from contracts.pages.contract_list import contract_list_page
from contracts.selectors import contract_get, contracts_fed_by
from contracts.services.queueing import contract_check_request
from monitors.selectors import pipeline_get

LIST = "contracts/contract_list.html"
DETAIL = "contracts/contract_detail.html"
VIEW_PERMISSION = "contracts.view_datacontract"


class HttpResponseSeeOther(HttpResponseRedirect):
    status_code = 303


@permission_required(VIEW_PERMISSION, raise_exception=True)
@vary_on_headers("HX-Request")
def contract_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every contract with its last check and open violations, filtered by status and searched by name or owner;
    only the results for an htmx request."""
    context = contract_list_page(params=request.GET)
    return render(request, f"{LIST}#results" if partial_only(request) else LIST, context)


def _contract_or_404(contract_id: int) -> DataContract:
    contract = contract_get(contract_id=contract_id)
    if contract is None:
        raise Http404("No such contract.")
    return contract


@permission_required(VIEW_PERMISSION, raise_exception=True)
@vary_on_headers("HX-Request")
def contract_detail_view(request: AuthenticatedHttpRequest, contract_id: int) -> HttpResponse:
    """One contract: header, open violations, check history, observed schema, versions and YAML; only the part the
    htmx request targets (the check history's pages) for htmx."""
    contract = _contract_or_404(contract_id)
    context = contract_detail_page(
        contract=contract, user=request.user, check_page=positive_int(request.GET.get("checks")) or 1
    )
    return render(request, f"{DETAIL}#history" if partial_only(request) else DETAIL, context)


@permission_required(VIEW_PERMISSION, raise_exception=True)
@require_POST
def contract_check_view(request: AuthenticatedHttpRequest, contract_id: int) -> HttpResponse:
    """Queue a check of the contract now (its result arrives on the page live)."""
    # Checked before the contract is looked up: a forged post by someone without the right learns nothing.
    if not request.user.has_perm(CHECK_PERMISSION):
        raise PermissionDenied
    contract = _contract_or_404(contract_id)
    blocked = check_blocked_reason(contract)
    if blocked:
        outcome, level, status = f"Not checked: {blocked}", messages.ERROR, 400
    else:
        contract_check_request(contract_id=contract.pk, requested_by_id=request.user.pk)
        outcome, level, status = "Check queued: its result appears here when it finishes.", messages.SUCCESS, 200
    if request.htmx:
        context = contract_detail_page(contract=contract, user=request.user, notice=outcome)
        return render(request, f"{DETAIL}#header", context, status=status)
    messages.add_message(request, level, outcome)
    return HttpResponseSeeOther(reverse("contracts:detail", args=[contract.pk]))


@permission_required(VIEW_PERMISSION, raise_exception=True)
def contracts_fed_by_view(request: AuthenticatedHttpRequest, pipeline_id: int) -> HttpResponse:
    """The contracts a pipeline writes the tables of: a list the run and pipeline pages load into themselves, and a
    page of its own when followed as a link."""
    pipeline = pipeline_get(pipeline_id=pipeline_id)
    if pipeline is None:
        raise Http404("No such pipeline.")
    context = {"pipeline": pipeline, "contracts": contracts_fed_by(pipeline=pipeline)}
    template = "contracts/includes/fed_by.html" if partial_only(request) else "contracts/fed_by.html"
    return render(request, template, context)
