"""One JSON POST for the HTTP channels (Teams, Slack, signed webhooks), its outcome reported as a DeliveryResult,
never raised; and `sender_for`, which picks the sender class for a channel kind from settings."""

from http import HTTPStatus

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from aimsweb.outbound import OutboundPolicy, OutboundRefused, check_url, guarded_session
from incidents.notify.base import DeliveryResult, Sender, url_origin

RETRYABLE_STATUSES = frozenset({408, 429})


def status_text(status: int) -> str:
    """ "HTTP 404 Not Found": the status and its standard phrase, never the receiver's own words or body (a receiver
    may echo the secret path it was posted to)."""
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> DeliveryResult:
    """POST `body` as is; 2xx is success, 408/429/5xx and transport errors are worth retrying, the rest is not.
    The URL must pass the outbound rules, and the connection goes only to an address they allow, the one checked
    (aimsweb.outbound); a refusal is final, never retried."""
    policy = OutboundPolicy.for_channels()
    try:
        check_url(url, policy)
        with (
            guarded_session(policy) as session,
            # Streamed and never read: nothing of a receiver's answer but its status is kept.
            session.post(
                url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True
            ) as response,
        ):
            status = response.status_code
    except OutboundRefused as exc:
        return DeliveryResult(ok=False, error=str(exc), retryable=False)
    except (requests.Timeout, requests.ConnectionError) as exc:
        # The exception's own text quotes the full URL, secret included: name the class and the origin only.
        return DeliveryResult(ok=False, error=f"{type(exc).__name__} contacting {url_origin(url)}", retryable=True)
    except requests.RequestException as exc:
        return DeliveryResult(ok=False, error=f"{type(exc).__name__} contacting {url_origin(url)}", retryable=False)
    if 200 <= status < 300:
        return DeliveryResult(ok=True, status_code=status)
    return DeliveryResult(
        ok=False,
        status_code=status,
        error=status_text(status),
        retryable=status in RETRYABLE_STATUSES or status >= 500,
    )


def sender_for(kind: str) -> Sender:
    """The sender for a channel kind, as configured in NOTIFICATION_SENDERS."""
    try:
        path = settings.NOTIFICATION_SENDERS[kind]
    except KeyError:
        known = ", ".join(sorted(settings.NOTIFICATION_SENDERS))
        raise ImproperlyConfigured(
            f"No notification sender for channel kind {kind!r} in NOTIFICATION_SENDERS (known: {known})"
        ) from None
    return import_string(path)(timeout=settings.AIMS_NOTIFY_TIMEOUT_SECONDS)
