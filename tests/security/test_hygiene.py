"""Hygiene around the running app: private files under var/ (the secret key, the database, the cache, Redis' socket),
and production installs that hold only what production runs, each file checked against its hash."""

import os
import re
import runpy
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

BASE_DIR = Path(django_settings.BASE_DIR)
DEV_TOOLS = {"pytest", "pytest-django", "playwright", "ruff", "honcho", "hypothesis", "uvicorn", "websockets"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _requirements(path: Path) -> dict[str, str]:
    """Each requirement of a pip-compile'd file (continuation lines joined), by normalised name."""
    text = re.sub(r"\\\n", " ", path.read_text())
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name = re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0]
            found[re.sub(r"[-_.]+", "-", name).lower()] = line
    return found


def _unpinned_or_unhashed(requirements: dict[str, str]) -> list[str]:
    return [
        name
        for name, line in requirements.items()
        if not re.match(r"^[A-Za-z0-9._-]+(\[[^]]*\])?==[^\s=]+\s", line + " ") or "--hash=sha256:" not in line
    ]


def test_production_requirements_pinned_with_hashes_and_free_of_dev_tools():
    """Finding 27: requirements.txt pins every package (==) with its hashes and holds no test, lint, demo or
    development-server tool."""
    requirements = _requirements(BASE_DIR / "requirements.txt")

    assert {"django", "daphne", "channels"} <= requirements.keys()
    assert _unpinned_or_unhashed(requirements) == []
    assert DEV_TOOLS & requirements.keys() == set()


def test_development_requirements_pinned_with_hashes():
    """Finding 27: the development tools live in requirements-dev.txt, pinned with hashes like the rest."""
    requirements = _requirements(BASE_DIR / "requirements-dev.txt")

    assert {"pytest", "pytest-django", "ruff", "hypothesis"} <= requirements.keys()
    assert _unpinned_or_unhashed(requirements) == []


def test_makefile_installs_requirements_with_require_hashes():
    """Finding 27: every install from a requirements file checks each file against its hash."""
    installs = [
        line for line in (BASE_DIR / "Makefile").read_text().splitlines() if re.search(r"pip install .*-r\s", line)
    ]

    assert installs
    assert [line for line in installs if "--require-hashes" not in line] == []


@pytest.fixture
def aims_environment(tmp_path) -> dict[str, str]:
    """A process environment for AIMS's defaults (SQLite, file cache, generated key) under a fresh var/."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "CHANNEL_LAYER_URL"}
    }
    environment.update(AIMS_ENV_FILE="", AIMS_VAR_DIR=str(tmp_path / "var"), DJANGO_SETTINGS_MODULE="aimsweb.settings")
    return environment


def _manage(environment: dict[str, str], *arguments: str) -> None:
    subprocess.run(
        [sys.executable, str(BASE_DIR / "manage.py"), *arguments],
        env=environment,
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        timeout=300,
        # The usual umask, under which files are created world-readable unless AIMS says otherwise.
        preexec_fn=lambda: os.umask(0o022),
    )


def test_var_dir_database_secret_key_and_cache_created_private(aims_environment, tmp_path):
    """Finding 24: a first start creates var/ for its user alone, and the secret key, the SQLite database (and its
    WAL files) and the file cache in it unreadable by others."""
    var = tmp_path / "var"

    _manage(aims_environment, "migrate", "--noinput")
    _manage(aims_environment, "shell", "-c", "from django.core.cache import cache; cache.set('probe', 1)")

    assert _mode(var) == 0o700
    assert _mode(var / "secret_key") == 0o600
    assert _mode(var / "aims.sqlite3") == 0o600
    assert all(_mode(path) == 0o600 for path in var.glob("aims.sqlite3-*"))
    assert _mode(var / "cache") == 0o700
    cached = [path for path in (var / "cache").iterdir() if path.is_file()]
    assert cached and all(_mode(path) & 0o077 == 0 for path in cached)


def test_var_dir_left_open_by_earlier_run_tightened(monkeypatch, tmp_path):
    """Finding 24: a var/ and database an earlier version left world-readable are made private on the next start."""
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)
    for name in ("aims.sqlite3", "aims.sqlite3-wal"):
        (var / name).write_bytes(b"")
        (var / name).chmod(0o644)
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIMS_ENV_FILE", "")
    monkeypatch.setenv("AIMS_VAR_DIR", str(var))

    runpy.run_path(str(BASE_DIR / "aimsweb" / "settings.py"))

    assert _mode(var) == 0o700
    assert _mode(var / "aims.sqlite3") == 0o600 and _mode(var / "aims.sqlite3-wal") == 0o600


def test_embedded_redis_socket_dir_private(settings, monkeypatch, tmp_path):
    """Finding 24: the embedded Redis' socket folder is private (tightened if it exists) and so is its socket."""
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o755)
    run_dir.chmod(0o755)
    settings.VAR_DIR = tmp_path
    settings.CHANNEL_LAYER_URL = f"unix://{run_dir / 'redis.sock'}"
    started = []
    monkeypatch.setattr(os, "execv", lambda path, arguments: started.append(arguments))

    call_command("embedded_redis")

    assert _mode(run_dir) == 0o700
    arguments = started[0]
    assert arguments[arguments.index("--unixsocketperm") + 1] == "700"
