"""`make run`'s supervisor (aimsweb.stack): the ready banner once the web server answers, after the processes'
start-up lines, and a clean stop: Ctrl-C (SIGINT) or SIGTERM ends it with status 0, a crashed process with its own.

The fast tests run a small Procfile (a stand-in web server and a sleeper); the slow one, the project's own Procfile
as `make run` does (AIMS_STACK_TEST=1 runs it: it takes 20 to 60 s)."""

import os
import pty
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from aimsweb.stack import StackManager, exit_status

BASE_DIR = Path(__file__).resolve().parent.parent.parent
FAKE_WEB = Path(__file__).resolve().parent / "stack_fixtures" / "fake_web.py"
READY = "AIMS is ready: http://127.0.0.1:"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stack:
    """`python -m aimsweb.stack PROCFILE` in its own process group, its output collected line by line."""

    def __init__(self, procfile: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [sys.executable, "-m", "aimsweb.stack", str(procfile)],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            if self.process.poll() is not None:
                self.reader.join(timeout=5)
                return any(text in line for line in self.lines)
            time.sleep(0.1)
        return False

    def stop(self, signum: int, *, group: bool) -> int:
        if group:  # a terminal's Ctrl-C reaches every process of the foreground group
            os.killpg(self.process.pid, signum)
        else:
            self.process.send_signal(signum)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """Stop a stack a test left running: honcho starts each process in a session of its own, so only the stack
        itself can stop them (SIGTERM); SIGKILL is the last resort."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


@pytest.fixture
def small_stack(tmp_path):
    port = _free_port()
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        f'web: {sys.executable} {FAKE_WEB}\nsleeper: {sys.executable} -c "import time; time.sleep(600)"\n'
    )
    env = {
        **os.environ,
        "AIMS_PORT": str(port),
        "AIMS_VAR_DIR": str(tmp_path / "var"),
        "AIMS_ENV_FILE": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    stacks: list[Stack] = []

    def start(text: str | None = None) -> Stack:
        if text is not None:
            procfile.write_text(text)
        stack = Stack(procfile, env)
        stacks.append(stack)
        return stack

    start.port = port  # type: ignore[attr-defined]
    start.var_dir = tmp_path / "var"  # type: ignore[attr-defined]
    start.procfile = procfile  # type: ignore[attr-defined]
    start.env = env  # type: ignore[attr-defined]
    yield start
    for stack in stacks:
        stack.kill()


@pytest.mark.parametrize("signum, group", [(signal.SIGINT, True), (signal.SIGTERM, False)])
def test_stack_prints_the_banner_once_ready_and_stops_with_status_0(small_stack, signum, group):
    stack = small_stack()

    assert stack.wait_for(READY, 60), stack.lines
    assert (small_stack.var_dir / "run" / "stack.pid").read_text().strip() == str(stack.process.pid)
    status = stack.stop(signum, group=group)

    assert status == 0, stack.lines
    ready_at = next(i for i, line in enumerate(stack.lines) if READY in line)
    started = [i for i, line in enumerate(stack.lines) if "fake web listening" in line]
    assert started and started[0] < ready_at  # after the processes' own start-up lines
    assert f"{READY}{small_stack.port}/" in stack.lines[ready_at]
    assert any("demo_logins" in line for line in stack.lines[ready_at:])
    assert not (small_stack.var_dir / "run" / "stack.pid").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_target_ctrl_c_in_a_terminal_ends_make_with_status_0(small_stack, tmp_path):
    """As `make run` in a terminal: Ctrl-C typed there reaches the stack alone (it holds the foreground), so make
    sees a clean stop (status 0) rather than dying of the signal itself (130)."""
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"run:\n\t{sys.executable} -m aimsweb.stack {small_stack.procfile}\n")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: a session leader whose controlling terminal is the pty, as a shell's job
        os.chdir(BASE_DIR)
        os.execvpe("make", ["make", "--no-print-directory", "-f", str(makefile), "run"], small_stack.env)
    output = b""
    deadline = time.monotonic() + 60
    while READY.encode() not in output and time.monotonic() < deadline:
        output += _read_some(terminal)
    assert READY.encode() in output, output.decode(errors="replace")

    os.write(terminal, b"\x03")  # Ctrl-C, as typed: the terminal signals its foreground process group
    while time.monotonic() < deadline + 30:
        chunk = _read_some(terminal)
        output += chunk
        finished, status = os.waitpid(pid, os.WNOHANG)
        if finished:
            break
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail(output.decode(errors="replace"))
    os.close(terminal)

    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, output.decode(errors="replace")[-2000:]
    assert b"AIMS stopped (SIGINT)" in output
    assert b"Error" not in output and b"Interrupt" not in output


def _read_some(terminal: int) -> bytes:
    ready, _, _ = select.select([terminal], [], [], 0.2)
    if not ready:
        return b""
    try:
        return os.read(terminal, 65536)
    except OSError:  # the other end has closed (the child ended)
        return b""


def test_stack_whose_process_crashes_ends_with_that_status(small_stack):
    stack = small_stack(f'web: {sys.executable} {FAKE_WEB}\nbroken: {sys.executable} -c "raise SystemExit(3)"\n')

    status = stack.process.wait(timeout=60)

    assert status == 3, stack.lines


def test_exit_status_is_0_for_a_requested_stop_else_the_process_status():
    manager = StackManager()
    manager.returncode = 143
    manager.stop_signal = signal.SIGTERM
    assert exit_status(manager) == 0
    manager.stop_signal = None
    assert exit_status(manager) == 143
    manager.returncode = None
    assert exit_status(manager) == 0


@pytest.mark.skipif(not os.environ.get("AIMS_STACK_TEST"), reason="slow (20-60 s): set AIMS_STACK_TEST=1")
def test_make_run_stack_ctrl_c_after_the_banner_ends_with_status_0(tmp_path):
    """The project's Procfile as `make run` starts it (after migrate and demo_setup): banner, then Ctrl-C, then 0."""
    port, simulator_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "AIMS_PORT": str(port),
        "AIMS_SIMULATOR_PORT": str(simulator_port),
        "AIMS_SIMULATOR_URL": f"http://127.0.0.1:{simulator_port}",
        "AIMS_BASE_URL": f"http://127.0.0.1:{port}",
        "AIMS_VAR_DIR": str(tmp_path / "var"),
        "AIMS_ENV_FILE": "",
        "DATABASE_URL": "",
        "CHANNEL_LAYER_URL": "",
        "PYTHONUNBUFFERED": "1",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # as the Makefile sets it
    }
    env = {name: value for name, value in env.items() if value != "" or name == "AIMS_ENV_FILE"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    for command in (["migrate", "--noinput", "--verbosity", "0"], ["demo_setup"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env, check=True, capture_output=True)
    # The simulator reads the demo webhook secret from var/ relative to the checkout in the Procfile: use a copy.
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        (BASE_DIR / "Procfile")
        .read_text()
        .replace("var/demo-webhook-secret", str(tmp_path / "var" / "demo-webhook-secret"))
    )
    stack = Stack(procfile, env)
    try:
        assert stack.wait_for(READY, 120), "\n".join(stack.lines)
        banner_at = next(i for i, line in enumerate(stack.lines) if READY in line)
        assert any("username admin" in line and "password " in line for line in stack.lines[banner_at:])
        assert stack.stop(signal.SIGINT, group=True) == 0, stack.lines[-30:]
    finally:
        stack.kill()
