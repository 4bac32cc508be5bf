import socket

import pytest

from tests.incidents.factories import make_incident
from tests.webhooks.hook_receiver import run_hook_receiver
from webhooks.models import Endpoint
from webhooks.services.endpoints import endpoint_create


@pytest.fixture
def hook_receiver(settings):
    """A receiver on a loopback origin the outbound rules allow for this test (as they allow the simulator's)."""
    with run_hook_receiver() as receiver:
        settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [*settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS, receiver.url]
        yield receiver


@pytest.fixture
def make_endpoint(db, hook_receiver):
    """An endpoint (posting to the test's receiver unless told otherwise) and its secret."""

    def make(name: str = "ops-bridge", **fields) -> tuple[Endpoint, str]:
        fields.setdefault("url", hook_receiver.url + "/hooks/aims")
        return endpoint_create(name=name, **fields)

    return make


@pytest.fixture
def incident(db):
    return make_incident()


@pytest.fixture
def resolve_to(monkeypatch):
    """Make a host name resolve to the given address (DNS as an attacker controls it)."""
    real = socket.getaddrinfo

    def install(name: str, address: str) -> None:
        def fake(host, port, *args, **kwargs):
            if host == name:
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 443))]
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", fake)

    return install
