"""The web server as the Procfile starts it (issue 13): body limits enforced on the stream, requests that stop
arriving, the access log without query tokens, and forwarded headers ignored unless behind a TLS proxy."""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.intake_helpers import SECRET

ROOT = Path(__file__).resolve().parents[2]
REQUEST_TIMEOUT_SECONDS = 2


# --- Findings 12, 16, 17: the web server as the Procfile starts it -------------------------------------------------


class Server:
    def __init__(self, port: int, log: Path):
        self.port = port
        self.log = log

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=REQUEST_TIMEOUT_SECONDS + 5)

    def logged(self) -> str:
        time.sleep(0.3)  # the server writes its log line after the answer
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_all(sock: socket.socket) -> bytes:
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """The Procfile's `web` process on a free port, serving nothing that needs the database."""
    command = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))[4:]
    port = _free_port()
    log = tmp_path_factory.mktemp("web") / "web.log"
    env = {
        **os.environ,
        "AIMS_PORT": str(port),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "AIMS_HTTP_REQUEST_TIMEOUT_SECONDS": str(REQUEST_TIMEOUT_SECONDS),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONUNBUFFERED": "1",
        # Every request's access-log line (quiet by default: only server errors), which these tests read.
        "AIMS_VERBOSE_LOGS": "true",
    }
    env.pop("BEHIND_TLS_PROXY", None)
    with log.open("w") as output:
        process = subprocess.Popen(
            [shutil.which("bash") or "/bin/bash", "-c", "exec " + command.strip()],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the web server did not start:\n{log.read_text()}")
                time.sleep(0.1)
        yield Server(port, log)
    finally:
        process.terminate()
        process.wait(10)


def test_web_server_declared_body_over_limit_413_before_body(server):
    """Finding 16: a declared Content-Length over the limit is answered 413 at once, without the body being sent."""
    with server.connect() as sock:
        sock.sendall(
            b"POST /hooks/databricks/any/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1073741824\r\n\r\n"
        )
        sock.settimeout(REQUEST_TIMEOUT_SECONDS - 0.5)
        answer = _read_all(sock)

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"body over" in answer


def test_web_server_chunked_body_cut_off_at_limit_413(server):
    """Finding 16: a chunked body is refused 413 once it passes the limit, not read to its end."""
    chunk = b"x" * 65536
    with server.connect() as sock:
        sock.sendall(b"POST /hooks/databricks/any/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            for _ in range(24):  # 1.5 MiB, never terminated
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
        except OSError:
            pass  # the server closed the connection: the answer is already waiting
        answer = _read_all(sock)

    assert answer.startswith(b"HTTP/1.1 413 ")


def test_web_server_body_that_stops_arriving_408(server):
    """Finding 16: a lying Content-Length (the body stops arriving) gets 408 and a closed connection within the
    body timeout, instead of holding the connection open."""
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(b'POST /hooks/databricks/any/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"a"')
        answer = _read_all(sock)

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < REQUEST_TIMEOUT_SECONDS + 2


def test_web_server_headers_that_stop_arriving_408(server):
    """Finding 16: headers sent a byte at a time and then not finished get 408 within the request timeout (twisted's
    idle timeout alone restarts with every byte)."""
    started = time.monotonic()
    with server.connect() as sock:
        sock.sendall(b"POST /hooks/databricks/any/ HTTP/1.1\r\n")
        for byte in b"Host: 127.0.0.1\r\nX-Slow: ":
            sock.sendall(bytes([byte]))
            time.sleep(0.05)
        answer = _read_all(sock)

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < REQUEST_TIMEOUT_SECONDS + 2


def test_web_server_access_log_without_query_token(server):
    """Finding 12: the web server's access log shows a ?token= request without the token."""
    with server.connect() as sock:
        sock.sendall(
            b"GET /livez?token=" + SECRET.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        assert _read_all(sock).startswith(b"HTTP/1.1 200 ")

    logged = server.logged()
    assert re.search(r"GET /livez\?token=\S+", logged)  # the request is logged...
    assert SECRET not in logged  # ...without its secret


def test_web_server_ignores_forwarded_headers_without_proxy(server):
    """Finding 17: without BEHIND_TLS_PROXY, X-Forwarded-For cannot forge the client address the server logs."""
    with server.connect() as sock:
        sock.sendall(
            b"GET /livez?probe=forwarded HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 203.0.113.77\r\n"
            b"X-Forwarded-Proto: https\r\nConnection: close\r\n\r\n"
        )
        assert _read_all(sock).startswith(b"HTTP/1.1 200 ")

    logged = server.logged()
    assert "probe=forwarded" in logged
    assert "203.0.113.77" not in logged


def test_web_server_proxy_headers_refused_unless_behind_proxy():
    """Finding 17: the web server will not trust proxy headers when AIMS is not behind a TLS proxy."""
    command = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert "--proxy-headers" not in command
