"""Fixtures for the simulator tests: a simulator per test (quiet, frozen clock) and a shared bulk one."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from simulator.testing import SimulatorHandle, run_simulator

CLOCK_START = "2025-03-14T00:00:00Z"
START = datetime(2025, 3, 14, tzinfo=UTC)
SUB = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
RG, FACTORY = "rg-sim", "adf-sim"
TOKEN = "dapi-sim-ws1"


@pytest.fixture
def sim() -> Iterator[SimulatorHandle]:
    """No history, no schedules, frozen clock: each test creates exactly the runs it needs."""
    with run_simulator("quiet", clock_start=CLOCK_START, speed=0) as handle:
        yield handle


@pytest.fixture
def default_sim() -> Iterator[SimulatorHandle]:
    with run_simulator("default", clock_start=CLOCK_START, speed=0) as handle:
        yield handle


@pytest.fixture(scope="module")
def bulk_sim() -> Iterator[SimulatorHandle]:
    with run_simulator("bulk", clock_start=CLOCK_START, speed=0) as handle:
        yield handle


def window(days_before: float = 5, days_after: float = 5) -> dict[str, datetime]:
    """lastUpdatedAfter/Before wide enough for every run of a test."""
    return {
        "last_updated_after": START - timedelta(days=days_before),
        "last_updated_before": START + timedelta(days=days_after),
    }


def raw_window(days_before: float = 5, days_after: float = 5) -> dict[str, str]:
    w = window(days_before, days_after)
    return {
        "lastUpdatedAfter": w["last_updated_after"].isoformat().replace("+00:00", "Z"),
        "lastUpdatedBefore": w["last_updated_before"].isoformat().replace("+00:00", "Z"),
    }


def adf_path(suffix: str, factory: str = FACTORY) -> str:
    return (
        f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.DataFactory/factories/{factory}"
        f"{suffix}?api-version=2018-06-01"
    )


class Receiver:
    """A tiny webhook receiver on 127.0.0.1:<free port> collecting every POST."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                outer.received.append({"path": self.path, "headers": dict(self.headers), "json": body})
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.received

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    yield rec
    rec.close()
