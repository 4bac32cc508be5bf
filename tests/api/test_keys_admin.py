"""API keys in the admin: created for a user and shown once, revoked in bulk, the digest never shown, and no key for a
superuser from an Admin."""

import pytest
from django.contrib.auth import get_user_model

from aimsweb.roles import Role
from api.models import ApiKey
from api.services.keys import api_key_authenticate, api_key_create
from tests.admin_forms import admin_post_data

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/api/apikey/add/"
LIST_URL = "/admin/api/apikey/"


def _add(client, **fields):
    page = client.get(ADD_URL)
    return client.post(ADD_URL, admin_post_data(page, **fields))


def test_admin_creates_key_for_user_shown_once(admin_client_, admin_user, responder):
    response = _add(admin_client_, user=str(responder.pk), name="Jira", scopes=["incidents:write"])

    assert response.status_code == 200, response.content
    plaintext = response.context["plaintext"]
    key = ApiKey.objects.get()
    assert key.user == responder and key.created_by == admin_user and key.scopes == ["incidents:write"]
    assert api_key_authenticate(plaintext) == key
    change = admin_client_.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    listing = admin_client_.get(LIST_URL).content.decode()
    for page in (change, listing):
        assert plaintext not in page and key.digest not in page
    assert key.prefix in listing


def test_admin_key_beyond_users_role_refused_on_scopes(admin_client_, viewer):
    response = _add(admin_client_, user=str(viewer.pk), name="too much", scopes=["incidents:write"])

    assert response.status_code == 200
    assert "scopes" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_admin_cannot_create_key_for_superuser(admin_client_):
    root = get_user_model().objects.create_superuser("root", password="x" * 12)

    response = _add(admin_client_, user=str(root.pk), name="root key", scopes=["incidents:read"])

    assert "user" in response.context["adminform"].form.errors
    assert not ApiKey.objects.exists()


def test_admin_revoke_action_revokes_selected(admin_client_, responder, viewer):
    first, first_plain = api_key_create(user=responder, name="a", scopes=["incidents:read"], created_by=responder)
    second, _ = api_key_create(user=viewer, name="b", scopes=["incidents:read"], created_by=viewer)

    admin_client_.post(LIST_URL, {"action": "revoke", "_selected_action": [first.pk]})

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    assert api_key_authenticate(first_plain) is None


def test_admin_change_page_edits_nothing(admin_client_, responder):
    key, _ = api_key_create(user=responder, name="a", scopes=["incidents:read"], created_by=responder)
    change_url = f"/admin/api/apikey/{key.pk}/change/"

    admin_client_.post(change_url, {"name": "renamed", "scopes": '["admin:read"]', "digest": "0" * 64})

    key.refresh_from_db()
    assert key.name == "a" and key.scopes == ["incidents:read"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.RESPONDER])
def test_admin_keys_closed_below_admin(make_user, role):
    from django.test import Client

    user = make_user(f"u-{role.value}", role)
    user.is_staff = True  # even a staff flag set by hand
    user.save()
    client = Client()
    client.force_login(user)

    assert client.get(LIST_URL).status_code == 403
