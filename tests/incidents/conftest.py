import pytest

from tests.incidents.receivers import run_receiver


@pytest.fixture
def receiver(settings):
    """A local HTTP endpoint that records requests and answers as programmed (see tests/incidents/receivers.py),
    on a loopback origin the outbound rules allow for this test (as they allow the simulator's)."""
    with run_receiver() as handle:
        settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [*settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS, handle.url]
        yield handle
