from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from incidents.selectors import incident_list


@permission_required("incidents.view_incident", raise_exception=True)
def incident_list_view(request: HttpRequest) -> HttpResponse:
    """The incident list: the whole page, or only its rows for an htmx request."""
    template = "incidents/incident_list.html#rows" if request.htmx else "incidents/incident_list.html"
    return render(request, template, {"incidents": incident_list()})
