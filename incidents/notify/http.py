"""One JSON POST for the HTTP channels (Teams, Slack, signed webhooks), its outcome reported as a DeliveryResult,
never raised; and `sender_for`, which picks the sender class for a channel kind from settings."""

from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from incidents.notify.base import DeliveryResult, Sender, url_origin

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
RETRYABLE_STATUSES = frozenset({408, 429})
ERROR_BODY_CHARS = 200
ERROR_BODY_READ_BYTES = 1024


def _refusal(url: str) -> str:
    """Why `url` must not be contacted, or "" when it may be."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "refused: the channel URL has no host"
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS):
        return ""
    return f"refused: {url_origin(url)} is not https (plain http is allowed only to this machine)"


def post_json(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> DeliveryResult:
    """POST `body` as is; 2xx is success, 408/429/5xx and transport errors are worth retrying, the rest is not."""
    refusal = _refusal(url)
    if refusal:
        return DeliveryResult(ok=False, error=refusal, retryable=False)
    try:
        # Streamed so that only the start of an error body is ever read, however much the receiver sends.
        with requests.post(
            url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True
        ) as response:
            status = response.status_code
            if 200 <= status < 300:
                return DeliveryResult(ok=True, status_code=status)
            excerpt = next(response.iter_content(ERROR_BODY_READ_BYTES), b"").decode("utf-8", errors="replace")
    except (requests.Timeout, requests.ConnectionError) as exc:
        # The exception's own text quotes the full URL, secret included: name the class and the origin only.
        return DeliveryResult(ok=False, error=f"{type(exc).__name__} contacting {url_origin(url)}", retryable=True)
    except requests.RequestException as exc:
        return DeliveryResult(ok=False, error=f"{type(exc).__name__} contacting {url_origin(url)}", retryable=False)
    return DeliveryResult(
        ok=False,
        status_code=status,
        error=f"HTTP {status}: {excerpt[:ERROR_BODY_CHARS]}",
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
