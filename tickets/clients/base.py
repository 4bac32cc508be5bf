"""What the ticket system clients share: one error type per provider (status, retryable, retry_after), and JSON calls
over a session that reaches only where the route may (aimsweb.outbound), with a timeout always set and TLS always
verified. The clients never retry: the sync worker backs off and tries again, durably."""

from http import HTTPStatus
from typing import Any

import requests
from django.conf import settings

from aimsweb.outbound import OutboundPolicy, OutboundRefused, check_url, guarded_session
from monitors.clients.base import retry_after_seconds

RETRYABLE_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_ERROR_TEXT = 300


class TicketSystemError(Exception):
    """A call to a ticket system failed. `retryable`: the same call may succeed later (transport errors, timeouts,
    throttling, 5xx); `retry_after`: the system's own hint in seconds. The message names the status and the system's
    error words (shortened), never the credential."""

    provider = "ticket system"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
        unsettled: bool = False,
    ):
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after
        # The request was sent and no answer came in time: the system may still apply it a moment later.
        self.unsettled = unsettled


class JsonClient:
    """JSON over HTTP to one base URL, as one account (HTTP Basic)."""

    error_class: type[TicketSystemError] = TicketSystemError

    def __init__(
        self, *, base_url: str, username: str, secret: str, is_simulator: bool, timeout: float | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = OutboundPolicy.for_connection(is_simulator=is_simulator)
        self.timeout = timeout if timeout is not None else settings.AIMS_TICKET_TIMEOUT_SECONDS
        self.session = guarded_session(self.policy)
        self.session.auth = (username, secret)
        self.session.headers.update({"Accept": "application/json"})

    def call(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> requests.Response:
        """One request; raises the provider's error for anything but a 2xx answer."""
        url = f"{self.base_url}{path}"
        try:
            check_url(url, self.policy)
            response = self.session.request(
                method, url, json=json, params=params, timeout=self.timeout, verify=True, allow_redirects=False
            )
        except OutboundRefused as exc:
            raise self.error_class(str(exc)) from None
        except requests.ReadTimeout:
            raise self.error_class(
                f"{self.error_class.provider} did not answer in time", retryable=True, unsettled=True
            ) from None
        except requests.Timeout:
            raise self.error_class(
                f"{self.error_class.provider} could not be reached in time", retryable=True
            ) from None
        except requests.RequestException as exc:
            raise self.error_class(
                f"{self.error_class.provider} unreachable ({type(exc).__name__})", retryable=True
            ) from None
        if response.status_code >= 300:
            raise self.error_class(
                f"{self.error_class.provider} answered {response.status_code} {_phrase(response.status_code)}"
                + (f": {words}" if (words := self.error_words(response)) else ""),
                status=response.status_code,
                retryable=response.status_code in RETRYABLE_STATUSES,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        return response

    def json(self, response: requests.Response) -> Any:
        """The answer's JSON; a 2xx answer that is not JSON is an error worth retrying (a proxy's page, cut off)."""
        try:
            return response.json()
        except ValueError:
            raise self.error_class(
                f"{self.error_class.provider} answered {response.status_code} with a body that is not JSON",
                status=response.status_code,
                retryable=True,
            ) from None

    def error_words(self, response: requests.Response) -> str:
        """What the system said went wrong (its error shape), shortened; "" when it said nothing readable."""
        return ""


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"
