"""Errors as RFC 9457 problem details (`application/problem+json`), each with a stable `code`.

{"type": "urn:aims:problem:<code>", "title": "...", "status": 412, "detail": "...", "code": "<code>",
 "errors": [{"field": "severity", "message": "..."}]}   (errors: on validation problems only)
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_TYPE = "urn:aims:problem:"
CONTENT_TYPE = "application/problem+json"


class Problem(exceptions.APIException):
    """An error with its own status, stable code and title."""

    def __init__(self, *, status_code: int, code: str, title: str, detail: str, headers: dict | None = None) -> None:
        super().__init__(detail=detail, code=code)
        self.status_code = status_code
        self.title = title
        self.extra_headers = headers or {}


def _errors(detail: Any, field: str = "") -> list[dict[str, str]]:
    """Flatten DRF's nested validation detail into [{field, message}], fields dotted ("items.2.id")."""
    if isinstance(detail, dict):
        return [error for key, value in detail.items() for error in _errors(value, f"{field}.{key}" if field else key)]
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return [{"field": field or "body", "message": str(item)} for item in detail]
        return [error for index, item in enumerate(detail) for error in _errors(item, f"{field}.{index}")]
    return [{"field": field or "body", "message": str(detail)}]


def _code(exc: exceptions.APIException) -> str:
    codes = exc.get_codes()
    if isinstance(codes, str):
        return codes
    return "invalid" if isinstance(exc, exceptions.ValidationError) else exc.default_code


def problem_body(*, status_code: int, code: str, title: str, detail: str, errors: list | None = None) -> dict:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status_code,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    return body


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, then the answer rewritten as a problem; Django's own errors mapped to DRF's first."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"body": exc.messages})
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = _code(exc)
    if isinstance(exc, exceptions.ValidationError):
        errors = _errors(exc.detail)
        detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors[:5])
        body = problem_body(
            status_code=response.status_code, code="invalid", title="Invalid request", detail=detail, errors=errors
        )
    else:
        title = getattr(exc, "title", "") or status_title(response.status_code)
        body = problem_body(status_code=response.status_code, code=code, title=title, detail=str(exc.detail))
    response.data = body
    response.content_type = CONTENT_TYPE
    for name, value in getattr(exc, "extra_headers", {}).items():
        response[name] = value
    return response


def status_title(status_code: int) -> str:
    return {
        status.HTTP_400_BAD_REQUEST: "Bad request",
        status.HTTP_401_UNAUTHORIZED: "Not authenticated",
        status.HTTP_403_FORBIDDEN: "Forbidden",
        status.HTTP_404_NOT_FOUND: "Not found",
        status.HTTP_405_METHOD_NOT_ALLOWED: "Method not allowed",
        status.HTTP_406_NOT_ACCEPTABLE: "Not acceptable",
        status.HTTP_409_CONFLICT: "Conflict",
        status.HTTP_412_PRECONDITION_FAILED: "Precondition failed",
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "Too large",
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "Unsupported media type",
        status.HTTP_422_UNPROCESSABLE_ENTITY: "Unprocessable",
        status.HTTP_428_PRECONDITION_REQUIRED: "Precondition required",
        status.HTTP_429_TOO_MANY_REQUESTS: "Too many requests",
    }.get(status_code, "Error")


def problem_response(request: HttpRequest, *, status_code: int, code: str, detail: str) -> JsonResponse:
    """A problem answered outside DRF (unknown /api/ paths, server errors)."""
    body = problem_body(status_code=status_code, code=code, title=status_title(status_code), detail=detail)
    return JsonResponse(body, status=status_code, content_type=CONTENT_TYPE)
