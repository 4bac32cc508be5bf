"""What every API view does: rate-limit fields on each answer, Idempotency-Key on POST, ETag / If-Match
preconditions, and the timeline actor of the caller."""

import hashlib
from typing import Any

from django.db.models import Model
from django.http import HttpResponse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.auth import api_key_of
from api.idempotency import Claim, idempotency_claim, idempotency_complete
from api.models import ApiKey
from api.problems import Problem
from api.ratelimit import caller_of, quota_headers
from incidents.models import IncidentEvent
from incidents.services.events import Actor


class _Replay(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def actor_of(request: Request) -> Actor:
    """Who the timeline says made a change: the API key (with its user), or the signed-in user."""
    key = api_key_of(request)
    if key is not None:
        return Actor(type=IncidentEvent.ActorType.API_KEY, user=key.user, label=key.actor_label)
    return Actor.of_user(request.user)  # type: ignore[arg-type]  # authenticated: the permission class saw to it


def etag_of(instance: Model) -> str:
    """A strong validator of one row's representation: changes whenever the row is saved."""
    stamp = getattr(instance, "updated_at", None)
    raw = f"{instance._meta.label}:{instance.pk}:{stamp.isoformat() if stamp else ''}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def precondition_check(request: Request, instance: Model, *, required: bool) -> None:
    """412 when If-Match names another version; 428 when it is required and missing."""
    header = request.headers.get("If-Match")
    if header is None:
        if required:
            raise Problem(
                status_code=status.HTTP_428_PRECONDITION_REQUIRED,
                code="precondition_required",
                title="If-Match required",
                detail="Send If-Match with the ETag of the incident you read, so a concurrent change is not lost.",
            )
        return
    current = etag_of(instance)
    offered = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    if "*" not in offered and current not in offered:
        raise Problem(
            status_code=status.HTTP_412_PRECONDITION_FAILED,
            code="precondition_failed",
            title="Changed since you read it",
            detail="The incident changed since the ETag you sent; read it again and retry.",
            headers={"ETag": current},
        )


class ConventionsMixin(APIView):
    """Mixed into every API view (before DRF's generic classes)."""

    idempotency: Claim | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authenticated, permitted and throttled first
        if request.method == "POST":
            self.idempotency = idempotency_claim(request, owner=self._owner(request))
            if self.idempotency.replay is not None:
                raise _Replay(self._replayed(self.idempotency.replay))

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return exc.response  # type: ignore[return-value]
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        quota = getattr(request, "aims_quota", None)
        if quota is not None:
            for name, value in quota_headers(quota).items():
                response[name] = value
        claim = self.idempotency
        if claim is not None and claim.record is not None:
            if isinstance(response, Response):
                response.render()
            idempotency_complete(claim.record, response)
            claim.record = None
        return response

    @staticmethod
    def _owner(request: Request) -> str:
        key = api_key_of(request)
        return f"key:{key.pk}" if isinstance(key, ApiKey) else caller_of(request)

    @staticmethod
    def _replayed(record) -> HttpResponse:
        response = HttpResponse(bytes(record.body), status=record.status_code)
        for name, value in record.headers.items():
            response[name] = value
        response["Idempotent-Replayed"] = "true"
        return response
