"""databricks-sdk set up so that AIMS owns the back-off in one place (monitors.clients.base.call_with_backoff).

Left alone, the SDK retries 429 and 503 answers, timeouts and some messages itself, sleeping each Retry-After until
its retry timeout: AIMS would see a bare timeout, without the platform's hint, after up to a minute. Here the SDK
retries nothing, and each of its errors keeps the HTTP status and the Retry-After hint (seconds or an HTTP date;
the SDK alone reads only seconds and guesses 1 s for anything else).
"""

from typing import Any

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import RealClock
from databricks.sdk.config import Config
from databricks.sdk.errors import DatabricksError
from databricks.sdk.errors.customizer import _ErrorCustomizer

from monitors.clients.base import retry_after_seconds


class RetryDeclined(Exception):
    """Raised where the SDK would pause before retrying on its own; the error it would have retried is the
    `__context__` (the SDK pauses while handling it)."""


class NoRetryClock(RealClock):
    """The SDK's clock (Config.clock) for its API calls: every pause before an SDK retry is refused."""

    def sleep(self, seconds: float) -> None:
        raise RetryDeclined(f"the SDK would retry after {seconds:.1f} s")


class _ResponseFacts(_ErrorCustomizer):
    """Keeps on every API error what the SDK otherwise drops: the HTTP status and the exact Retry-After."""

    def customize_error(self, response: requests.Response, kwargs: dict[str, Any]) -> None:
        kwargs["http_status"] = response.status_code
        if response.status_code in (429, 503):
            kwargs["retry_after_secs"] = retry_after_seconds(response.headers.get("Retry-After"))


def workspace_client(options: dict[str, Any]) -> WorkspaceClient:
    """A WorkspaceClient that retries nothing itself and reports status and Retry-After on its errors."""
    workspace = WorkspaceClient(config=Config(**options, clock=NoRetryClock()))
    # The SDK's error parser applies customizers in order, later ones overriding earlier ones; it offers no public
    # way to add one to a WorkspaceClient, so this reaches its client as the outbound guard does for the session.
    parser = workspace.api_client._api_client._error_parser
    parser._error_customizers = [*parser._error_customizers, _ResponseFacts()]
    return workspace


def http_status(exc: DatabricksError) -> int | None:
    status = (exc.kwargs or {}).get("http_status") if isinstance(exc.kwargs, dict) else None
    return status if isinstance(status, int) else None


def declined_error(exc: RetryDeclined) -> BaseException:
    """The error the SDK wanted to retry."""
    return exc.__context__ or exc
