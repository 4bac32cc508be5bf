"""One signed POST to a subscriber's endpoint, its outcome returned as data, never raised."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import requests
from standardwebhooks import Webhook

from aimsweb.outbound import OutboundPolicy, OutboundRefused, check_url, origin_of
from aimsweb.redact import MASK, redact
from incidents.notify.http import status_text
from incidents.notify.webhook import aims_signature

EXCERPT_BYTES = 1024


@dataclass(frozen=True)
class SendOutcome:
    """What one attempt came to: the status (None when no answer), why it failed, the start of the answer."""

    status_code: int | None
    error: str
    excerpt: str
    retry_after_seconds: float | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signed_headers(*, msg_id: str, body: bytes, secrets: list[str], sent_at: int) -> dict[str, str]:
    """Standard Webhooks headers (one `v1,` signature per secret) and AIMS's own X-AIMS-* ones (current secret)."""
    moment = datetime.fromtimestamp(sent_at, tz=UTC)
    timestamp = str(sent_at)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": " ".join(Webhook(secret).sign(msg_id, moment, body) for secret in secrets),
        "X-AIMS-Delivery": msg_id,
        "X-AIMS-Timestamp": timestamp,
        "X-AIMS-Signature": aims_signature(secrets[0], timestamp, body),
    }


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header in seconds (delta-seconds or an HTTP date), None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(tz=UTC)).total_seconds())


def _without(secrets: list[str], text: str) -> str:
    """`text` with the endpoint's own secrets masked, whole or without their prefix (a receiver may echo them; the
    general redaction cannot know every base64 spelling)."""
    for secret in secrets:
        text = text.replace(secret, MASK).replace(secret.removeprefix("whsec_"), MASK)
    return text


def signed_post(
    session: requests.Session, policy: OutboundPolicy, *, url: str, msg_id: str, body: bytes, secrets: list[str],
    timeout: float,
) -> SendOutcome:  # fmt: skip
    """POST `body` to `url` signed, stamped with the real time now (receivers check it against their clock); no
    redirect is followed. The URL is checked again here, and the connection goes only to an address the outbound
    rules allow (the session is guarded)."""
    started = time.monotonic()

    def outcome(status: int | None, error: str, excerpt: str = "", retry_after: float | None = None) -> SendOutcome:
        elapsed = int((time.monotonic() - started) * 1000)
        return SendOutcome(status, redact(error), _without(secrets, redact(excerpt)), retry_after, elapsed)

    headers = signed_headers(msg_id=msg_id, body=body, secrets=secrets, sent_at=int(time.time()))
    try:
        check_url(url, policy)
        with session.post(
            url, data=body, headers=headers, timeout=(timeout, timeout), allow_redirects=False, stream=True
        ) as response:
            status = response.status_code
            raw = next(response.iter_content(EXCERPT_BYTES), b"")[:EXCERPT_BYTES]
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
    except OutboundRefused as exc:
        return outcome(None, str(exc))
    except requests.RequestException as exc:
        # The exception's own text may quote the full URL: the class and the origin only.
        return outcome(None, f"{type(exc).__name__} contacting {origin_of(url)}")
    excerpt = raw.decode("utf-8", errors="replace")
    if 200 <= status < 300:
        return outcome(status, "", excerpt)
    error = status_text(status) + (" (redirects are not followed)" if 300 <= status < 400 else "")
    return outcome(status, error, excerpt, retry_after)
