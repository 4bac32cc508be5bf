"""A local HTTP receiver standing in for Teams, Slack and webhook endpoints: it records every request and answers
with a programmed list of replies (then 200 "ok"), so a test can make it fail, stall, then succeed."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    delay: float = 0.0  # seconds to wait before answering


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str  # http://127.0.0.1:<port>, no trailing slash
    requests: list[ReceivedRequest] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=list)

    def reply_with(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        self.replies.extend(replies)


class _Server(ThreadingHTTPServer):
    receiver: Receiver
    closing: threading.Event
    lock: threading.Lock

    def handle_error(self, request, client_address) -> None:
        """Quiet: the only errors are clients that hung up on a delayed reply, which tests do on purpose."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _record_and_reply(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        received = ReceivedRequest(
            self.command, self.path, {name.lower(): value for name, value in self.headers.items()}, body
        )
        with self.server.lock:
            self.server.receiver.requests.append(received)
            replies = self.server.receiver.replies
            reply = replies.pop(0) if replies else Reply()
        if reply.delay:
            self.server.closing.wait(reply.delay)  # cut short when the receiver stops
        self.send_response(reply.status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = _record_and_reply

    def log_message(self, format: str, *args: Any) -> None:
        """Not on stderr: pytest shows the requests through the assertions instead."""


@contextmanager
def run_receiver() -> Iterator[Receiver]:
    """A receiver on 127.0.0.1 and a free port, serving from a daemon thread until the block ends."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.closing = threading.Event()
    server.lock = threading.Lock()
    server.receiver = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
