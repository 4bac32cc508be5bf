"""Browser tests: a real daphne server on the test's database, Debian's Chromium driven by Playwright, and a Redis
channel layer that the server and the test process share, so live updates travel between processes as in production.

Playwright's sync API keeps its event loop marked as running in the test's thread while a browser is open. Django
then refuses ORM calls there unless DJANGO_ALLOW_ASYNC_UNSAFE is set (the `browser` fixture sets it for its test),
and `async_to_sync` refuses outright: a test that broadcasts from its own process does it in another thread (see
test_live.py).
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections
from django.test import override_settings
from playwright.sync_api import Browser, ConsoleMessage, Page, sync_playwright

from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SERVER_LOG = pytest.StashKey[Path]()
CALL_FAILED = pytest.StashKey[bool]()
STARTUP_SECONDS = 60


def chromium_path() -> str | None:
    """Debian's Chromium (the `chromium` package); Playwright's own browser downloads are never used."""
    return shutil.which("chromium")


def artifacts_dir(*parts: str) -> Path:
    """A folder under var/test-artifacts (kept by CI), created on first use."""
    path = Path(settings.VAR_DIR, "test-artifacts", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def shot(page: Page, name: str) -> Path:
    """A full-page PNG of the page in var/test-artifacts/screenshots/<database vendor>/<name>.png."""
    path = artifacts_dir("screenshots", connection.vendor) / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:150]


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds}s waiting for {what}")
        time.sleep(0.05)


# --- Skips, and what a failure shows ------------------------------------------------------------------------------


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if chromium_path() or os.environ.get("AIMS_REQUIRE_BROWSER"):
        return
    skip = pytest.mark.skip(
        reason="Debian's Chromium is not installed (`make browser-deps`, or apt-get install chromium); "
        "`make test` sets AIMS_REQUIRE_BROWSER=1, which turns this skip into a failure"
    )
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        if report.when == "call":
            item.stash[CALL_FAILED] = True
        log = item.stash.get(SERVER_LOG, None)
        if log is not None and log.exists():
            report.sections.append((f"daphne log ({log})", log.read_text(errors="replace")[-20_000:]))
    return report


# --- The channel layer and the server ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """The static files, collected once for the servers the tests start (the project's var/static is left alone)."""
    root = tmp_path_factory.mktemp("static")
    with override_settings(STATIC_ROOT=root):
        call_command("collectstatic", interactive=False, verbosity=0)
    return root


@dataclass(frozen=True)
class AimsServer:
    url: str
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def _aims_server(request, channel_layer_url: str, static_root: Path, name: str = "") -> Iterator[AimsServer]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = artifacts_dir("logs", connection.vendor) / f"{_slug(request.node.nodeid)}{name}.daphne.log"
    request.node.stash[SERVER_LOG] = log
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "AIMS_TEST_WORKER_DATABASE": str(connection.settings_dict["NAME"]),
        "AIMS_TEST_CHANNEL_LAYER_URL": channel_layer_url,
        "AIMS_TEST_STATIC_ROOT": str(static_root),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for this process only (see the module docstring)
    with log.open("w") as output:
        server = subprocess.Popen(  # daphne, as the Procfile starts it
            [sys.executable, "-m", "aimsweb.webserver", "-b", "127.0.0.1", "-p", str(port), "aimsweb.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(url):
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"daphne did not answer /healthz on {url}:\n{log.read_text(errors='replace')}")
            time.sleep(0.1)
        yield AimsServer(url=url, log=log)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)


@pytest.fixture
def aims_server(request, transactional_db, shared_channel_layer, collected_static) -> Iterator[AimsServer]:
    """A real daphne process serving AIMS on 127.0.0.1:<free port>, on this test's database and channel layer.

    Tasks run inline in it (django-q2 sync, as in all tests): a webhook it receives is processed, triaged and
    broadcast by the server itself. Its output goes to var/test-artifacts/logs/, shown when the test fails."""
    with _aims_server(request, shared_channel_layer, collected_static) as server:
        yield server


@pytest.fixture
def second_aims_server(request, aims_server, shared_channel_layer, collected_static) -> Iterator[AimsServer]:
    """Another daphne process like aims_server, on the same database and Redis channel layer."""
    with _aims_server(request, shared_channel_layer, collected_static, name=".second") as server:
        yield server


# --- The browser --------------------------------------------------------------------------------------------------


@pytest.fixture
def browser(transactional_db) -> Iterator[Browser]:
    """Headless Debian Chromium for one test.

    Playwright's sync API keeps its event loop marked as running in this thread while it is started, which makes
    Django's thread-critical locals (the database connections) context-local: the test body works on connections
    of its own, which are closed here before Playwright stops. Starting it after the test database is set up and
    stopping it before the database is flushed keeps pytest-django's own connection (and the data that
    serialized_rollback restores) out of it."""
    executable = chromium_path()
    if executable is None:
        pytest.fail("AIMS_REQUIRE_BROWSER is set but Debian's Chromium is not installed (`make browser-deps`)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox refuses to run as root
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        try:
            yield launched
        finally:
            launched.close()
            connections.close_all()


_console_errors: dict[Page, list[str]] = {}


def console_errors(page: Page) -> list[str]:
    """Errors the page logged to its console, and uncaught exceptions, since it was opened."""
    return _console_errors[page]


def assert_no_console_errors(page: Page) -> None:
    errors = console_errors(page)
    assert not errors, f"{len(errors)} console error(s) on {page.url}:\n" + "\n".join(errors)


def _record_console_error(errors: list[str], message: ConsoleMessage) -> None:
    url = message.location.get("url", "")
    # The pages link no icon, so the browser asks for /favicon.ico and logs the 404: not an error of the page.
    if message.type == "error" and not url.endswith("/favicon.ico"):
        errors.append(f"{message.text} ({url})" if url else message.text)


@pytest.fixture
def page_for(request, browser: Browser, aims_server: AimsServer) -> Iterator[Callable[..., Page]]:
    """`page_for(user, width=1280, server=aims_server)`: a page of a new browser context (its own cookies) logged in
    as `user` through the real login form. Contexts are closed after the test; when it failed, each open page is
    screenshot first."""
    contexts = []

    def open_page(user, width: int = 1280, height: int = 900, server: AimsServer | None = None) -> Page:
        base_url = (server or aims_server).url
        context = browser.new_context(base_url=base_url, viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        errors = _console_errors[page] = []
        page.on("console", lambda message: _record_console_error(errors, message))
        page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
        page.goto("/login/")
        page.get_by_label("Username").fill(user.get_username())
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield open_page
    failed = request.node.stash.get(CALL_FAILED, False)
    for number, context in enumerate(contexts, start=1):
        for index, page in enumerate(context.pages, start=1):
            if failed:
                shot(page, f"FAILED-{_slug(request.node.name)}-{number}.{index}")
            _console_errors.pop(page, None)
        context.close()
