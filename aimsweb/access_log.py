"""The access log: one line per HTTP request, through Python logging ("aims.access"), with the values of query
parameters that may carry a secret (Azure Monitor sends the webhook secret as `?token=`) replaced. It stands in for
daphne's own access log, which prints the full path and query (aimsweb/webserver.py turns that one off)."""

import json
import logging
import re
import time
from urllib.parse import unquote_plus

logger = logging.getLogger("aims.access")

REDACTED = "[redacted]"
# Parameter names that may carry a credential; matched anywhere in the name, whatever the case.
SECRET_PARAMETER = re.compile(r"token|secret|sig|key|pass|auth|code|credential|session", re.IGNORECASE)


def query_redacted(query: bytes) -> str:
    """The query string with the value of every secret-bearing parameter replaced (names and order kept)."""
    parts = []
    for pair in query.decode("latin-1").split("&"):
        name, equals, _ = pair.partition("=")
        if equals and SECRET_PARAMETER.search(unquote_plus(name)):
            parts.append(f"{name}={REDACTED}")
        else:
            parts.append(pair)
    return "&".join(parts)


class AccessLog:
    """ASGI middleware logging each HTTP request once it is answered: client, method, path with a redacted query,
    status, body size and seconds taken."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.monotonic()
        status, size = 0, 0

        async def send_watched(message):
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, send_watched)
        finally:
            client = scope.get("client")
            query = scope.get("query_string", b"")
            path = scope.get("path", "") + ("?" + query_redacted(query) if query else "")
            path = json.dumps(path)[1:-1]  # control characters escaped: one request, one line
            # Server errors (or no answer at all) stay in the log when the access log is quiet (AIMS_VERBOSE_LOGS).
            logger.log(
                logging.WARNING if not status or status >= 500 else logging.INFO,
                '%s "%s %s HTTP/%s" %s %s %.3fs',
                f"{client[0]}:{client[1]}" if client else "-",
                scope.get("method", ""),
                path,
                scope.get("http_version", "1.1"),
                status or "-",
                size,
                time.monotonic() - started,
            )
