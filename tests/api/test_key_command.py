"""`manage.py api_key_create`: one new key on the last line, within the user's role; clear errors otherwise."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from aimsweb.roles import Role
from api.models import ApiKey

pytestmark = pytest.mark.django_db


def test_api_key_create_prints_a_working_key_on_its_last_line(make_user):
    make_user("ops-bot", Role.RESPONDER)
    out = StringIO()

    call_command(
        "api_key_create",
        "ops-bot",
        "--scope",
        "incidents:read",
        "--scope",
        "incidents:write",
        "--expires",
        "30",
        stdout=out,
    )

    plaintext = out.getvalue().strip().splitlines()[-1]
    key = ApiKey.objects.get()
    assert plaintext.startswith(key.prefix) and plaintext not in key.digest
    assert key.scopes == ["incidents:read", "incidents:write"] and key.expires_at is not None
    response = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}").get("/api/v1/incidents")
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nobody", "--scope", "incidents:read"], "No user named"),
        (["viewer-bot", "--scope", "incidents:fly"], "Unknown scope"),
        (["viewer-bot", "--scope", "admin:read"], "Beyond viewer-bot's role"),
        (["viewer-bot"], "at least one scope"),
        (["viewer-bot", "--scope", "incidents:read", "--expires", "0"], "expires_in_days"),
    ],
)
def test_api_key_create_refuses_clearly(make_user, arguments, message):
    make_user("viewer-bot", Role.VIEWER)

    with pytest.raises(CommandError, match=message):
        call_command("api_key_create", *arguments, stdout=StringIO())

    assert not ApiKey.objects.exists()
