"""Downloads of the incident list: what its filters select, as CSV or JSON (`?format=`)."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse

from aimsweb.export import EXPORT_FORMATS
from aimsweb.http import AuthenticatedHttpRequest
from incidents.pages.incident_export import incident_export


@permission_required("incidents.view_incident", raise_exception=True)
def incident_export_view(request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
    """The filtered incident list as a file: ?format=csv (the default) or json, plus the list's own filters."""
    export_format = request.GET.get("format", "csv")
    if export_format not in EXPORT_FORMATS:
        return HttpResponseBadRequest(b"format: use csv or json.", content_type="text/plain; charset=utf-8")
    return incident_export(
        params=request.GET,
        user=request.user,
        export_format=export_format,
        base_url=f"{request.scheme}://{request.get_host()}",
    )
