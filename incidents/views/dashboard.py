"""The dashboard: open incidents by severity and age, KPIs of a time window, and charts of failures."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render

from aimsweb.http import AuthenticatedHttpRequest
from incidents.pages.dashboard import dashboard_page

TEMPLATE = "incidents/dashboard.html"


@permission_required("incidents.view_incident", raise_exception=True)
def dashboard_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The dashboard for ?window=24h (default) or 7d: the whole page, or only its live part for an htmx request."""
    context = dashboard_page(window=request.GET.get("window", ""))
    return render(request, f"{TEMPLATE}#live" if request.htmx else TEMPLATE, context)
