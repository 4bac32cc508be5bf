"""Fixtures shared by all test modules: users in each role, and clients logged in as them."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aimsweb.roles import Role
from aimsweb.services import user_set_role
from monitors.services import _drain_mark, _marks

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _no_webhook_drain_marked():
    """A drain marked as queued by an earlier test (the file cache outlives it) must not hold this test's back."""
    _marks().delete_many([_drain_mark(slot) for slot in range(8)])


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
