import pytest

from tests.tickets import helpers


@pytest.fixture
def fake_system(settings):
    """Every route talks to the in-memory system of tests.tickets.helpers."""
    settings.AIMS_TICKET_SYSTEMS = {
        "jira": "tests.tickets.helpers.FakeSystem",
        "servicenow": "tests.tickets.helpers.FakeSystem",
    }
    settings.AIMS_TICKET_SETTLE_SECONDS = 0
    return helpers.fake_reset()
