"""`manage.py demo_logins`: the demo users' passwords demo_setup generated, printed again while they still work;
never one that was changed or set from the environment. demo_setup itself prints no live-update warnings."""

import logging
import re
import stat
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from aimsweb import realtime
from aimsweb.demo_logins import demo_logins_path


def _call(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def _passwords(output: str) -> dict[str, str]:
    return dict(re.findall(r"username (\w+)\s+password (?!not shown)(\S+)", output))


@pytest.fixture(autouse=True)
def private_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.mark.django_db
def test_demo_logins_prints_the_passwords_demo_setup_generated_kept_private():
    generated = _passwords(_call("demo_setup"))

    printed = _call("demo_logins")

    assert set(generated) == {"viewer", "responder", "admin"}
    assert _passwords(printed) == generated
    assert "/login/" in printed
    assert stat.S_IMODE(demo_logins_path().stat().st_mode) == 0o600


@pytest.mark.django_db
def test_demo_logins_after_reset_prints_the_new_passwords():
    first = _passwords(_call("demo_setup"))
    second = _passwords(_call("demo_setup", "--reset"))

    assert _passwords(_call("demo_logins")) == second != first


@pytest.mark.django_db
def test_demo_logins_never_prints_a_changed_password():
    _call("demo_setup")
    admin = get_user_model().objects.get(username="admin")
    admin.set_password("chosen-by-a-real-person-42")
    admin.save()

    printed = _call("demo_logins")

    assert "admin" not in _passwords(printed) and set(_passwords(printed)) == {"viewer", "responder"}
    assert "chosen-by-a-real-person-42" not in printed and "--reset" in printed


@pytest.mark.django_db
def test_demo_logins_never_prints_a_password_from_the_environment(settings):
    settings.AIMS_DEMO_PASSWORDS = {"viewer": "env-given-viewer-pw-1", "responder": "", "admin": ""}
    _call("demo_setup")

    printed = _call("demo_logins")

    assert "env-given-viewer-pw-1" not in printed and "env-given-viewer-pw-1" not in demo_logins_path().read_text()
    assert "AIMS_DEMO_PASSWORD_VIEWER" in printed and set(_passwords(printed)) == {"responder", "admin"}


@pytest.mark.django_db
def test_demo_logins_before_demo_setup_says_how_to_create_them():
    printed = _call("demo_logins")

    assert _passwords(printed) == {} and printed.count("demo_setup") == 3


class UnreachableLayer:
    """A channel layer whose Redis is not running, as when `make run` sets the demo up."""

    async def group_send(self, group, message):
        raise ConnectionError("Error 2 connecting to var/run/redis.sock. No such file or directory.")


@pytest.mark.django_db
def test_demo_setup_prints_no_live_update_warnings_before_redis_runs(
    monkeypatch, caplog, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(realtime, "get_channel_layer", UnreachableLayer)
    caplog.set_level(logging.INFO)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _call("demo_setup")

    assert callbacks and not [record for record in caplog.records if record.name == "aimsweb.realtime"]
    # Outside demo_setup the warning stands: nothing else is hidden.
    with django_capture_on_commit_callbacks(execute=True):
        realtime.broadcast_after_commit(group="incidents.list", event="incident.changed", ids=[1])
    assert [record.levelname for record in caplog.records if record.name == "aimsweb.realtime"] == ["WARNING"]
