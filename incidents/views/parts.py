"""The incident page's merge and split actions: merge this incident into another open one, or split one pipeline's
part out into an incident of its own. Bad input answers the page with the problem named (400)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from aimsweb.http import AuthenticatedHttpRequest
from incidents.forms import form_problems
from incidents.part_forms import MergeIntoForm, SplitForm
from incidents.services import Actor, incident_merge, incident_split
from incidents.views.incidents import HttpResponseSeeOther, _incident_or_404, _page


def _refused(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [f"{field}: {message}" for field, items in error.message_dict.items() for message in items]
    return list(error.messages)


@permission_required("incidents.resolve_incident", raise_exception=True)
@require_POST
def incident_merge_into_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    """Merge this incident into the open incident the form names; answers that incident's page."""
    incident = _incident_or_404(incident_id)
    form = MergeIntoForm(request.POST, auto_id="merge-%s")
    bound: dict[str, forms.Form] = {"merge_form": form}
    if not form.is_valid():
        return _page(request, incident, action="merge", problems=form_problems(form), bound=bound, status=400)
    target_id = form.cleaned_data["into"]
    try:
        target = incident_merge(
            incident_id=target_id,
            actor=Actor.of_user(request.user),
            source_ids=[incident.pk],
            note=form.cleaned_data["note"],
        )
    except (ValidationError, type(incident).DoesNotExist) as error:
        problems = _refused(error) if isinstance(error, ValidationError) else [f"No incident #{target_id}."]
        return _page(request, incident, action="merge", problems=problems, bound=bound, status=400)
    messages.success(request, f"Incident #{incident.pk} was merged into this one.")
    return HttpResponseSeeOther(target.get_absolute_url())


@permission_required("incidents.resolve_incident", raise_exception=True)
@require_POST
def incident_split_view(request: AuthenticatedHttpRequest, incident_id: int) -> HttpResponse:
    """Split the named pipeline's part out of this incident; answers this incident's page, saying where it went."""
    incident = _incident_or_404(incident_id)
    form = SplitForm(request.POST)
    if not form.is_valid():
        return _page(request, incident, action="split", problems=form_problems(form), status=400)
    try:
        new = incident_split(
            incident_id=incident.pk,
            pipeline_id=form.cleaned_data["pipeline"],
            actor=Actor.of_user(request.user),
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        return _page(request, incident, action="split", problems=_refused(error), status=400)
    name = new.pipeline.name if new.pipeline else "the pipeline"
    messages.success(request, f"{name} was split out into incident #{new.pk}.")
    return HttpResponseSeeOther(incident.get_absolute_url())
