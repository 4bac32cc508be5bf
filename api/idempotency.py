"""Idempotency-Key on POST (draft-ietf-httpapi-idempotency-key-header): the first request with a key is processed
and its answer kept for AIMS_API_IDEMPOTENCY_HOURS; a retry with the same key and body gets that answer again, with
another body 422, while the first is still running 409. Keys are scoped by caller. Server errors are not kept, so a
retry after one is processed afresh."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request

from api.models import IdempotencyRecord
from api.problems import Problem

MAX_KEY_CHARS = 255
KEPT_HEADERS = ("Location", "ETag", "Content-Type")


@dataclass
class Claim:
    record: IdempotencyRecord | None = None  # ours to complete
    replay: IdempotencyRecord | None = None  # an earlier answer to give again


def _key(request: Request) -> str | None:
    raw = request.headers.get("Idempotency-Key")
    if raw is None:
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':  # the draft's structured-field string form
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_CHARS or not key.isprintable():
        raise Problem(
            status_code=status.HTTP_400_BAD_REQUEST,
            code="idempotency_key_invalid",
            title="Invalid Idempotency-Key",
            detail=f"Idempotency-Key must be 1 to {MAX_KEY_CHARS} printable characters.",
        )
    return key


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotency_claim(request: Request, *, owner: str) -> Claim:
    """Claim the request's key for this caller, or find the answer to replay; raises the 409/422 problems."""
    key = _key(request)
    if key is None:
        return Claim()
    fingerprint = _fingerprint(request)
    since = timezone.now() - timedelta(hours=settings.AIMS_API_IDEMPOTENCY_HOURS)
    IdempotencyRecord.objects.filter(owner=owner, key=key, created_at__lt=since).delete()
    try:
        with transaction.atomic():
            return Claim(record=IdempotencyRecord.objects.create(owner=owner, key=key, fingerprint=fingerprint))
    except IntegrityError:
        pass
    earlier = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
    if earlier is None:  # deleted since (expired, or its request failed): this request may try again
        return idempotency_claim(request, owner=owner)
    if earlier.fingerprint != fingerprint:
        raise Problem(
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            code="idempotency_key_reused",
            title="Idempotency-Key reused",
            detail="This Idempotency-Key was used with another request; use a new key for a new request.",
        )
    if earlier.status_code is None:
        raise Problem(
            status_code=status.HTTP_409_CONFLICT,
            code="idempotency_key_in_use",
            title="Request in progress",
            detail="A request with this Idempotency-Key is still being processed; retry shortly.",
            headers={"Retry-After": "1"},
        )
    return Claim(replay=earlier)


def idempotency_complete(record: IdempotencyRecord, response: HttpResponse) -> None:
    """Keep the answer for retries, or forget the key after a server error."""
    if response.status_code >= 500:
        record.delete()
        return
    record.status_code = response.status_code
    record.body = bytes(response.content)
    record.headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    record.save(update_fields=["status_code", "body", "headers"])


def idempotency_prune(*, now=None) -> int:
    """Delete answers older than the replay window (daily)."""
    since = (now or timezone.now()) - timedelta(hours=settings.AIMS_API_IDEMPOTENCY_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=since).delete()
    return deleted
