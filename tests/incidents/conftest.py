import socket

import pytest

from tests.incidents.receivers import run_receiver


@pytest.fixture
def receiver(settings):
    """A local HTTP endpoint that records requests and answers as programmed (see tests/incidents/receivers.py),
    on a loopback origin the outbound rules allow for this test (as they allow the simulator's)."""
    with run_receiver() as handle:
        settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [*settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS, handle.url]
        yield handle


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
