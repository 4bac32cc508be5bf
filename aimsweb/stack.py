"""What `make run` ends with: the Procfile's processes under honcho, a "ready" banner once the web server answers,
and a clean stop.

- **Ready**: once `GET /healthz` answers and the task queue's cluster is up (or after READY_WAIT_SECONDS, whatever
  it says), after the other processes' start-up lines, a banner prints where to log in and the demo logins
  (`manage.py demo_logins`, which prints them again at any time).
- **Stop**: Ctrl-C (SIGINT) or SIGTERM to this process stops every process and ends with status 0, as a stop that
  was asked for (honcho alone ends with 130 or 143, which make reports as `make: *** Error 143`). A process that ends
  by itself still stops the rest, and its status is this one's. Started from a terminal (by `make run`), it takes
  the terminal's foreground in a process group of its own, so Ctrl-C reaches it and not `make`, which would die of
  the signal (status 130) whatever this process answered; the foreground goes back to `make` when it ends.

Run it as `python -m aimsweb.stack [Procfile]`; its process id is written to var/run/stack.pid while it runs.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

from honcho.environ import expand_processes, parse, parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer

BASE_DIR = Path(__file__).resolve().parent.parent
READY_WAIT_SECONDS = 90.0
POLL_SECONDS = 0.5
BANNER_RULE = "=" * 78


class StackManager(Manager):
    """honcho's manager, remembering whether a stop was asked for by a signal."""

    stop_signal: int | None = None

    def _start(self) -> None:
        # honcho installs its SIGINT/SIGTERM handlers just before it starts the processes: wrap them here.
        for signum in (signal.SIGINT, signal.SIGTERM):
            honcho_handler = signal.getsignal(signum)

            def handler(received: int, frame: FrameType | None, inner=honcho_handler) -> None:
                if self.stop_signal is None:
                    self.stop_signal = received
                if callable(inner):
                    inner(received, frame)

            signal.signal(signum, handler)
        super()._start()


def exit_status(manager: StackManager) -> int:
    """0 when the stack was stopped by a signal (Ctrl-C, SIGTERM); otherwise the status of the process that ended."""
    if manager.stop_signal is not None:
        return 0
    return manager.returncode or 0


def _health(url: str) -> dict | None:
    """The answer of /healthz (200 or 503), None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # our own server, on loopback
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        try:
            return json.loads(error.read())
        except ValueError:
            return {}
    except (OSError, ValueError):
        return None


def wait_until_ready(base_url: str, *, stopped: threading.Event, wait_seconds: float = READY_WAIT_SECONDS) -> bool:
    """Wait until the web server answers and the task queue has a cluster (or the wait is over); False if the stack
    stopped first."""
    deadline = time.monotonic() + wait_seconds
    answered = False
    while not stopped.is_set():
        health = _health(f"{base_url}/healthz")
        answered = answered or health is not None
        queue = (health or {}).get("task_queue") or {}
        if health is not None and queue.get("clusters", 0) >= 1:
            return True
        if answered and time.monotonic() > deadline:
            return True
        stopped.wait(POLL_SECONDS)
    return False


@dataclass
class LoginsCommand:
    process: subprocess.Popen | None
    output: IO[str]


def demo_logins_start() -> LoginsCommand:
    """`manage.py demo_logins`: the demo users and their passwords, or how to get new ones. Its output goes to a
    temporary file, not a pipe, which a process honcho forked could hold open."""
    output = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by demo_logins_read or the caller
    try:
        process = subprocess.Popen(
            [sys.executable, str(BASE_DIR / "manage.py"), "demo_logins"], stdout=output, stderr=subprocess.STDOUT
        )
    except OSError:
        process = None
    return LoginsCommand(process, output)


def demo_logins_read(command: LoginsCommand) -> str:
    how = "run `.venv/bin/python manage.py demo_logins`"
    with command.output:
        if command.process is None:
            return f"(demo logins not read: {how})"
        try:
            command.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            command.process.kill()
            return f"(demo logins not read in time: {how})"
        command.output.seek(0)
        return command.output.read().rstrip()


def banner(base_url: str, logins: str) -> str:
    return "\n".join(
        [
            "",
            BANNER_RULE,
            f"  AIMS is ready: {base_url}/",
            "",
            *(f"  {line}" for line in logins.splitlines()),
            "",
            "  Ctrl-C stops everything. Logins again: .venv/bin/python manage.py demo_logins",
            "  Every library's log lines: AIMS_VERBOSE_LOGS=true make run",
            BANNER_RULE,
            "",
            "",
        ]
    )


def _announce_when_ready(base_url: str, stopped: threading.Event) -> None:
    if not wait_until_ready(base_url, stopped=stopped) or stopped.is_set():
        return
    # Only now: honcho forks its processes as it starts, and a fork taken while Popen runs here holds Popen's own
    # pipe open, blocking it until that process ends.
    text = banner(base_url, demo_logins_read(demo_logins_start()))
    if not stopped.is_set():
        sys.stdout.write(text)
        sys.stdout.flush()


@contextmanager
def terminal_foreground() -> Iterator[None]:
    """When stdin is a terminal whose foreground group is this process's (as under `make run`), move this process
    to a group of its own and make that the foreground for the block: the terminal's Ctrl-C then signals it alone.
    Elsewhere (no terminal, a background job) nothing changes."""
    try:
        fd = sys.stdin.fileno()
        given = os.tcgetpgrp(fd) if os.isatty(fd) else None
    except (OSError, ValueError):
        given = None
    if given is None or given != os.getpgrp():
        yield
        return
    ttou = signal.signal(signal.SIGTTOU, signal.SIG_IGN)  # a background group may then still set the foreground
    try:
        os.setpgid(0, 0)
        os.tcsetpgrp(fd, os.getpgrp())
        yield
    finally:
        with suppress(OSError):  # the group that ran us may have gone: its shell takes the terminal back itself
            os.tcsetpgrp(fd, given)
        signal.signal(signal.SIGTTOU, ttou)


def main(argv: list[str]) -> int:
    procfile = Path(argv[0]) if argv else BASE_DIR / "Procfile"
    env_file = BASE_DIR / ".env"
    app_env = parse(env_file.read_text()) if env_file.exists() else {}
    manager = StackManager(Printer(sys.stdout, colour=sys.stdout.isatty()))
    for process in expand_processes(parse_procfile(procfile.read_text()).processes, env=app_env):
        environment = os.environ.copy()
        environment.update(process.env)
        manager.add_process(process.name, process.cmd, quiet=process.quiet, env=environment)
    port = os.environ.get("AIMS_PORT") or app_env.get("AIMS_PORT") or "8000"
    base_url = f"http://127.0.0.1:{port}"
    run_dir = Path(os.environ.get("AIMS_VAR_DIR") or BASE_DIR / "var") / "run"
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    pid_file = run_dir / "stack.pid"
    pid_file.write_text(f"{os.getpid()}\n")
    stopped = threading.Event()
    threading.Thread(target=_announce_when_ready, args=(base_url, stopped), name="ready-banner", daemon=True).start()
    try:
        with terminal_foreground():
            manager.loop()
    finally:
        stopped.set()
        pid_file.unlink(missing_ok=True)
    if manager.stop_signal is not None:
        sys.stdout.write(f"AIMS stopped ({signal.Signals(manager.stop_signal).name}).\n")
    return exit_status(manager)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
