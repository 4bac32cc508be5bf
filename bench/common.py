"""Shared pieces of the benchmarks: Django set-up, timing, results, and a small HTTP load generator."""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "var" / "bench" / "results.json"
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "aimsweb.settings",
    "AIMS_ENV_FILE": "",
    "CHANNEL_LAYER_URL": "memory://",
    "LOG_LEVEL": "WARNING",
}


@dataclass
class Metric:
    metric: str
    value: float
    unit: str
    ceiling: float
    ratio: float
    target: str


def django_setup() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("benchmarks run against PostgreSQL: use `make bench` (or set DATABASE_URL=postgres://...)")
    os.environ.update(BENCH_ENV)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(port: int, path: str = "/livez", timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port}{path}")


def start_daphne(port: int, env: dict[str, str] | None = None) -> subprocess.Popen:
    """daphne on 127.0.0.1:port with the bench environment (plus `env`), once it answers /livez. Its stderr goes to
    var/bench/daphne.log (the latest server's): a pipe nobody reads would stall the server once it filled up."""
    env = {**os.environ, **BENCH_ENV, **(env or {})}
    log = RESULTS.parent / "daphne.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [
                str(ROOT / ".venv" / "bin" / "python"),
                "-m",
                "aimsweb.webserver",  # daphne, as the Procfile starts it
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "aimsweb.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_for_http(port)
    except RuntimeError:
        process.kill()
        raise RuntimeError(f"daphne did not answer on port {port}; see {log}") from None
    return process


@dataclass
class LoadResult:
    requests: int
    seconds: float
    statuses: Counter

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def load(
    port: int,
    *,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict | None = None,
    concurrency: int,
    seconds: float,
) -> LoadResult:
    """Keep `concurrency` keep-alive connections busy for `seconds`; count answers by status."""
    statuses: Counter = Counter()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def worker() -> None:
        local: Counter = Counter()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            try:
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                response.read()
                local[response.status] += 1
            except OSError:
                local["error"] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.close()
        with lock:
            statuses.update(local)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(requests=sum(statuses.values()), seconds=time.monotonic() - started, statuses=statuses)


def write_results(metrics: list[Metric]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = {m["metric"]: m for m in json.loads(RESULTS.read_text())} if RESULTS.exists() else {}
    existing.update({m.metric: asdict(m) for m in metrics})
    RESULTS.write_text(json.dumps(list(existing.values()), indent=2) + "\n")


def p95(values: list[float]) -> float:
    """The 95th percentile (linear interpolation between the closest ranks)."""
    if len(values) < 2:
        return max(values)
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def viewer_session_cookie(username: str = "bench-viewer") -> str:
    """A `Cookie` header value for a signed-in user with the Viewer role (the user is created if missing)."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from aimsweb.roles import Role
    from aimsweb.services import user_set_role

    user, _ = get_user_model().objects.get_or_create(username=username)
    user_set_role(user=user, role=Role.VIEWER)
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
