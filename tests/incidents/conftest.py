import pytest

from tests.incidents.receivers import run_receiver


@pytest.fixture
def receiver():
    """A local HTTP endpoint that records requests and answers as programmed (see tests/incidents/receivers.py)."""
    with run_receiver() as handle:
        yield handle
