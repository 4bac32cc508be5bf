"""A subscriber's receiver on 127.0.0.1 for tests: it answers with the status it is set to (503 while "down",
Retry-After and Location when given), and records every request; `delivered` keeps the first copy of each
webhook-id that was answered 2xx, as a receiver de-duplicating on it would. Status 0 stands for a receiver that
is not there: the connection is closed without an answer."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # names lower-cased
    body: bytes
    answered: int


@dataclass
class HookReceiver:
    url: str
    status: int = 200
    extra_headers: dict[str, str] = field(default_factory=dict)
    answer_body: bytes = b"ok"
    requests: list[Received] = field(default_factory=list)
    delivered: dict[str, Received] = field(default_factory=dict)  # webhook-id -> first accepted copy, in order
    duplicates: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Server(ThreadingHTTPServer):
    receiver: HookReceiver


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        with receiver.lock:
            status = receiver.status
            received = Received(headers, body, status)
            receiver.requests.append(received)
            if 200 <= status < 300:
                if headers.get("webhook-id") in receiver.delivered:
                    receiver.duplicates += 1
                else:
                    receiver.delivered[headers.get("webhook-id", "")] = received
            extra, answer = dict(receiver.extra_headers), receiver.answer_body
        if status == 0:
            self.close_connection = True
            return
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format, *args) -> None:
        """Quiet."""


@contextmanager
def run_hook_receiver() -> Iterator[HookReceiver]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = HookReceiver(url=f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
