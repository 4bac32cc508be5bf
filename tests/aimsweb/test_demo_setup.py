import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from aimsweb.roles import Role, user_role
from incidents.models import NotificationChannel, NotificationRoute
from monitors.models import Connection
from remediation.models import RetryPolicy


def _run(*args) -> str:
    out = StringIO()
    call_command("demo_setup", *args, stdout=out)
    return out.getvalue()


def _authenticate(username: str, password: str):
    """As the login page does: with the request (the login throttle counts failures per address)."""
    return authenticate(RequestFactory().post("/login/"), username=username, password=password)


def _printed_passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"username (\w+)\s+password ([^\s(]\S*)", output))


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path  # the demo webhook secret file lands here


@pytest.mark.django_db
def test_demo_setup_creates_users_with_roles_and_prints_passwords():
    output = _run()

    passwords = _printed_passwords(output)
    assert set(passwords) == {"viewer", "responder", "admin"}
    for username, role in [("viewer", Role.VIEWER), ("responder", Role.RESPONDER), ("admin", Role.ADMIN)]:
        user = _authenticate(username=username, password=passwords[username])
        assert user is not None and user_role(user) == role
        assert user.is_staff == (role == Role.ADMIN)
        assert not user.is_superuser
    assert "/login/" in output
    assert set(RetryPolicy.objects.values_list("name", flat=True)) == {"Transient failures", "Resource pressure"}
    connections = Connection.objects.prefetch_related("monitors")
    assert {c.name for c in connections} == {"adf-sim", "adf-sim-analytics", "sim-databricks"}
    assert all(c.is_simulator and c.get_webhook_secret() and c.monitors.count() == 1 for c in connections)
    assert Connection.objects.get(name="sim-databricks").get_secret() == "dapi-sim-ws1"
    route = NotificationRoute.objects.get()
    assert route.channels.count() == 3 and route.escalation_steps.get().after_minutes == 5
    urls = {channel.name: channel.get_url() for channel in NotificationChannel.objects.all()}
    assert all(url.startswith("http://127.0.0.1:8765/_sim/inbox/") for url in urls.values()), urls
    assert NotificationChannel.objects.get(kind="webhook").get_signing_secret()


@pytest.mark.django_db
def test_demo_setup_second_run_keeps_passwords_and_policies():
    first = _printed_passwords(_run())
    RetryPolicy.objects.filter(name="Transient failures").update(max_attempts=7)

    second = _run()

    assert _printed_passwords(second) == {}
    assert second.count("(unchanged") == 3
    assert _authenticate(username="admin", password=first["admin"]) is not None
    assert RetryPolicy.objects.get(name="Transient failures").max_attempts == 7
    assert get_user_model().objects.count() == 3
    assert "Created connection" not in second and Connection.objects.count() == 3
    assert NotificationChannel.objects.count() == 4 and NotificationRoute.objects.count() == 1


@pytest.mark.django_db
def test_demo_setup_passwords_from_settings_and_reset(settings):
    settings.AIMS_DEMO_PASSWORDS = {"viewer": "", "responder": "", "admin": "admin-from-env-123"}
    _run()
    assert _authenticate(username="admin", password="admin-from-env-123") is not None

    old = _authenticate(username="viewer", password="x")
    assert old is None
    reset = _printed_passwords(_run("--reset"))
    assert reset["admin"] == "admin-from-env-123"
    assert _authenticate(username="viewer", password=reset["viewer"]) is not None
