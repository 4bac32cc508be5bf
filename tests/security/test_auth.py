"""Both login pages lock out a username after 5 failures, an address after 20, for 15 minutes, with a clear message
and 429; the attempted password is never logged or stored (Finding 8)."""

import logging
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from aimsweb.roles import Role
from tests.conftest import PASSWORD

ATTACKER = "203.0.113.5"
ELSEWHERE = "198.51.100.7"
LOCKED_MESSAGE = "Too many failed attempts; try again in 15 minutes."


def _login(path: str, username: str, password: str, address: str, **headers):
    return Client().post(path, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def _guess(path: str, username: str, times: int, address: str = ATTACKER, **headers) -> list[int]:
    return [_login(path, username, f"guess-{n}", address, **headers).status_code for n in range(times)]


def _attempts():
    """Axes' records of failed attempts (imported here: old code without axes still runs the other tests)."""
    from axes.models import AccessAttempt

    return AccessAttempt.objects.all()


def _logged_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/", "/admin/login/"])
def test_login_brute_force_locks_username_with_429_and_message(path, admin_user, make_user):
    """Finding 8: 50 wrong passwords are refused with 429 and a message from the fifth on; the right password is then
    refused too, until the cool-off has passed; another user from another address is unaffected."""
    statuses = _guess(path, admin_user.username, 50)

    assert statuses[:4] == [200] * 4  # the fifth failure is answered with the lockout
    assert set(statuses[4:]) == {429}
    locked = _login(path, admin_user.username, PASSWORD, ATTACKER)
    assert locked.status_code == 429
    assert LOCKED_MESSAGE in locked.content.decode()
    assert not _logged_in(_login(path, admin_user.username, PASSWORD, ELSEWHERE))  # the username, from anywhere

    other = make_user("other", Role.ADMIN)  # an Admin: the admin site's login takes staff only
    assert _logged_in(_login(path, other.username, PASSWORD, ELSEWHERE))

    _attempts().update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert _logged_in(_login(path, admin_user.username, PASSWORD, ATTACKER))


@pytest.mark.django_db
def test_login_brute_force_locks_address_across_usernames(viewer, responder):
    """Finding 8: 20 failures from one address, each for another username, lock that address out (for every user);
    other addresses are unaffected."""
    statuses = [_login("/login/", f"user{n}", "guess", ATTACKER).status_code for n in range(25)]

    assert statuses[:19] == [200] * 19
    assert set(statuses[19:]) == {429}
    assert _login("/login/", viewer.username, PASSWORD, ATTACKER).status_code == 429
    assert _logged_in(_login("/login/", responder.username, PASSWORD, ELSEWHERE))


@pytest.mark.django_db
def test_login_brute_force_forged_forwarded_for_counts_against_peer(viewer, responder):
    """Finding 8: a client rotating X-Forwarded-For (not behind the TLS proxy) is still counted by its own address."""
    for n in range(20):
        _login("/login/", f"user{n}", "guess", ATTACKER, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    assert (
        _login("/login/", responder.username, PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    )


@pytest.mark.django_db
def test_login_brute_force_behind_proxy_counts_forwarded_address(settings, viewer, responder):
    """Finding 8: behind the TLS proxy, the address the proxy appended to X-Forwarded-For is the one counted."""
    settings.BEHIND_TLS_PROXY = True
    for n in range(20):
        _login("/login/", f"user{n}", "guess", "10.0.0.1", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER}")

    assert _login("/login/", viewer.username, PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    assert _logged_in(_login("/login/", responder.username, PASSWORD, "10.0.0.1", HTTP_X_FORWARDED_FOR=ELSEWHERE))


@pytest.mark.django_db
def test_login_failure_never_logs_or_stores_password(viewer, caplog):
    """Finding 8: a failed attempt's password appears in no log line and no stored record."""
    secret_guess = "Tr0ub4dor&3-never-logged"

    with caplog.at_level(logging.DEBUG):
        for path in ("/login/", "/admin/login/"):
            _login(path, viewer.username, secret_guess, ATTACKER)

    assert caplog.records
    assert secret_guess not in caplog.text
    assert _attempts().exists()
    assert not any(secret_guess in f"{a.get_data}{a.post_data}" for a in _attempts())
