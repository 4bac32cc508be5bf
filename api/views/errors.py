"""Problems for what never reaches a DRF view: an unknown /api/ path, and a server error under /api/."""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from api.problems import problem_response


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    return problem_response(request, status_code=404, code="not_found", detail="No such API path.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, or a problem (with no detail: the log has it) for API callers."""
    if request.path.startswith("/api/"):
        return problem_response(request, status_code=500, code="server_error", detail="An unexpected error; logged.")
    return defaults.server_error(request)
