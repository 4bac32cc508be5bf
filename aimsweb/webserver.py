"""The web server: daphne, with request bodies limited while they arrive and no access log of its own.

Twisted, under daphne, reads a request's whole body (into memory, then a temporary file) before daphne hands the
request to the ASGI app, so no middleware can refuse a huge or never-ending body in time. Here the request object
itself watches the body: a declared Content-Length over AIMS_HTTP_MAX_BODY_BYTES is answered 413 before any of it is
read, a chunked body is cut off with 413 at that size, and a request whose headers and body have not all arrived
AIMS_HTTP_REQUEST_TIMEOUT_SECONDS after its first line is answered 408 (twisted's own idle timeout restarts with
every byte, so a slow sender could hold a connection for ever). Either way the connection is closed.

daphne's own access log prints each request's full path, query secrets (`?token=`) included; it is off, and
aimsweb.access_log logs requests instead. X-Forwarded-For/-Proto are trusted only behind a TLS proxy
(BEHIND_TLS_PROXY, which sets SECURE_PROXY_SSL_HEADER): otherwise any client could forge its address and scheme.

Run it as daphne: `python -m aimsweb.webserver --bind 127.0.0.1 --port 8000 aimsweb.asgi:application`.
"""

import daphne.server  # isort:skip - installs the asyncio reactor, before anything imports twisted's default one

import json
import os
import sys
from http import HTTPStatus

from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from django.conf import settings
from twisted.internet import reactor


class LimitedRequest(WebRequest):
    """daphne's request, refusing a body that is too big, or a request too slow, while it arrives. Twisted creates
    it when the request line arrives."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.body_received = 0
        self.refused = False
        timeout = settings.AIMS_HTTP_REQUEST_TIMEOUT_SECONDS
        self.deadline = reactor.callLater(
            timeout, self.refuse, HTTPStatus.REQUEST_TIMEOUT, f"request not received within {timeout:g} seconds"
        )

    def gotLength(self, length: int | None) -> None:
        """The headers are in: `length` is the declared Content-Length (None when chunked)."""
        super().gotLength(length)
        limit = settings.AIMS_HTTP_MAX_BODY_BYTES
        if length is not None and length > limit:
            self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {limit} bytes")

    def handleContentChunk(self, data: bytes) -> None:
        if self.refused:
            return
        self.body_received += len(data)
        limit = settings.AIMS_HTTP_MAX_BODY_BYTES
        if self.body_received > limit:
            self.refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {limit} bytes")
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        """The whole request is in: hand it to daphne, unless it was refused."""
        self.deadline_cancel()
        if not self.refused:
            super().requestReceived(command, path, version)

    def connectionLost(self, reason) -> None:
        self.deadline_cancel()
        super().connectionLost(reason)

    def deadline_cancel(self) -> None:
        # Twisted declares IDelayedCall's methods zope-style, without `self`, which mypy reads as unbound functions.
        if self.deadline.active():  # type: ignore[misc]
            self.deadline.cancel()  # type: ignore[misc]

    def refuse(self, status: HTTPStatus, message: str) -> None:
        """Answer with a JSON error naming the problem and close: the rest of the body is never read. Written to
        the transport directly, as twisted answers a malformed request, because the request never reaches daphne."""
        if self.refused or self.channel is None:
            return
        self.refused = True
        self.deadline_cancel()
        body = json.dumps({"error": message}).encode()
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        self.channel.transport.write(head.encode() + body)
        self.channel.loseConnection()


class LimitedHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = LimitedRequest
        return protocol


class LimitedServer(daphne.server.Server):
    def __init__(self, *args, **kwargs):
        kwargs["action_logger"] = None  # aimsweb.access_log logs requests, without query secrets
        super().__init__(*args, **kwargs)


class WebServerCommand(CommandLineInterface):
    server_class = LimitedServer


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aimsweb.settings")
    # Server.run builds its HTTP factory by this name.
    daphne.server.HTTPFactory = LimitedHTTPFactory
    behind_proxy = bool(getattr(settings, "SECURE_PROXY_SSL_HEADER", None))
    if "--proxy-headers" in argv and not behind_proxy:
        sys.exit("--proxy-headers is only for a server behind a TLS proxy: set BEHIND_TLS_PROXY=true")
    if behind_proxy and "--proxy-headers" not in argv:
        argv = ["--proxy-headers", *argv]
    WebServerCommand().run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
