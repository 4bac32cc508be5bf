"""What the incident writes share: the incident locked with its If-Match checked in the write's own transaction
(so the check and the write see the same version), the services' refusals answered as problems, and the headers
and answers they document."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

from api.conventions import precondition_check
from api.problems import Problem
from incidents.models import Incident

# Refusals about what was asked (not about the incident's state, which is a 409).
UNPROCESSABLE = frozenset({"merge_into_self", "merge_source_missing", "split_single_pipeline"})

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="The incident's ETag as you read it: a 412 instead of acting on a version you have not seen.",
)
IF_MATCH_REQUIRED = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="The incident's ETag as you read it (required: 428 without, 412 when it changed since).",
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Any unique string (1-255 printable characters): a retry with the same key and body gets the first "
    "answer again (header Idempotent-Replayed: true) for 24 h.",
)
PROBLEM = "application/problem+json"


def problem(description: str) -> OpenApiResponse:
    return OpenApiResponse(response={"$ref": "#/components/schemas/Problem"}, description=description)


STALE = {(412, PROBLEM): problem("Changed since read (stale If-Match)")}


@contextmanager
def refusals_as_problems(*, default_code: str = "not_allowed") -> Iterator[None]:
    """A service's ValidationError as a problem: field errors a 400 naming the fields; a refused transition a 409
    (or 422) with the service's code; a row that is gone a 404."""
    try:
        yield
    except ObjectDoesNotExist as error:
        raise NotFound(str(error) or None) from None
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError(error.message_dict) from None
        code = next((item.code for item in error.error_list if item.code), default_code)
        raise Problem(
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY if code in UNPROCESSABLE else status.HTTP_409_CONFLICT,
            code=code,
            title="Not possible",
            detail=" ".join(error.messages),
        ) from None


@contextmanager
def incident_locked(request: Request, incident_id: int, *, if_match_required: bool = False) -> Iterator[Incident]:
    """A transaction holding the incident's row, entered once its If-Match (if any) names the current version;
    the service called inside takes the same lock again, and its write commits with the check."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update(of=("self",)).filter(pk=incident_id).first()
        if incident is None:
            raise NotFound("No such incident.")
        precondition_check(request, incident, required=if_match_required)
        yield incident
