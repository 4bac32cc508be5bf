"""The API keys page: a person's own keys, created within their role and shown once, revoked by their owner."""

import logging

import pytest
from django.test import Client

from aimsweb.roles import Role
from api.models import ApiKey
from api.services.keys import api_key_authenticate, api_key_create

pytestmark = pytest.mark.django_db
PAGE = "/account/api-keys/"


def test_keys_page_create_shows_key_once_and_it_works(responder_client, responder, caplog):
    caplog.set_level(logging.DEBUG)

    created = responder_client.post(
        PAGE, {"name": "Jira automation", "scopes": ["incidents:read", "tickets:write"], "expires_in_days": "30"}
    )

    assert created.status_code == 201, created.content
    plaintext = created.context["plaintext"]
    assert plaintext.startswith("aims_") and plaintext in created.content.decode()
    assert "no-store" in created.headers["Cache-Control"]
    key = ApiKey.objects.get(user=responder)
    assert key.scopes == ["incidents:read", "tickets:write"] and key.expires_at is not None
    assert api_key_authenticate(plaintext) == key
    later = responder_client.get(PAGE)
    assert plaintext not in later.content.decode() and key.prefix in later.content.decode()
    assert plaintext not in caplog.text
    assert key.digest not in later.content.decode()


def test_keys_page_scope_beyond_role_refused_naming_scopes(viewer_client, viewer):
    response = viewer_client.post(PAGE, {"name": "sneaky", "scopes": ["incidents:write"]})

    assert response.status_code == 400
    assert "scopes" in response.context["form"].errors
    assert not ApiKey.objects.filter(user=viewer).exists()


def test_keys_page_offers_only_scopes_of_role(viewer_client):
    choices = [value for value, _ in viewer_client.get(PAGE).context["form"].fields["scopes"].choices]

    assert choices == ["incidents:read", "pipelines:read", "contracts:read"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "scopes": ["incidents:read"]}, "name"),
        ({"name": "x" * 101, "scopes": ["incidents:read"]}, "name"),
        ({"name": "ok", "scopes": []}, "scopes"),
        ({"name": "ok", "scopes": ["incidents:read"], "expires_in_days": "0"}, "expires_in_days"),
        ({"name": "ok", "scopes": ["incidents:read"], "expires_in_days": "99999999999999999999"}, "expires_in_days"),
        ({"name": "ok", "scopes": ["nonsense"]}, "scopes"),
    ],
)
def test_keys_page_bad_input_names_field_and_saves_nothing(viewer_client, fields, field):
    response = viewer_client.post(PAGE, fields)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not ApiKey.objects.exists()


def test_keys_page_lists_only_own_keys(viewer_client, viewer, responder):
    mine, _ = api_key_create(user=viewer, name="mine", scopes=["incidents:read"], created_by=viewer)
    theirs, _ = api_key_create(user=responder, name="theirs", scopes=["incidents:read"], created_by=responder)

    page = viewer_client.get(PAGE).content.decode()

    assert mine.prefix in page and theirs.prefix not in page


def test_keys_page_revoke_own_key(viewer_client, viewer):
    key, plaintext = api_key_create(user=viewer, name="mine", scopes=["incidents:read"], created_by=viewer)

    response = viewer_client.post(f"{PAGE}{key.pk}/revoke/")

    assert response.status_code == 303
    key.refresh_from_db()
    assert key.revoked_at is not None and api_key_authenticate(plaintext) is None


def test_keys_page_revoke_another_users_key_is_404_and_keeps_it(viewer_client, responder):
    key, plaintext = api_key_create(user=responder, name="theirs", scopes=["incidents:read"], created_by=responder)

    response = viewer_client.post(f"{PAGE}{key.pk}/revoke/")

    assert response.status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None and api_key_authenticate(plaintext) == key


def test_keys_page_revoke_needs_csrf(viewer, make_user):
    key, _ = api_key_create(user=viewer, name="mine", scopes=["incidents:read"], created_by=viewer)
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)

    response = client.post(f"{PAGE}{key.pk}/revoke/")

    assert response.status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_keys_page_revoke_by_get_is_405(viewer_client, viewer):
    key, _ = api_key_create(user=viewer, name="mine", scopes=["incidents:read"], created_by=viewer)

    assert viewer_client.get(f"{PAGE}{key.pk}/revoke/").status_code == 405


def test_keys_page_needs_login():
    response = Client().get(PAGE)

    assert response.status_code == 302 and "/login/" in response.headers["Location"]


def test_keys_page_user_without_role_is_offered_nothing(no_role_user):
    client = Client()
    client.force_login(no_role_user)

    page = client.get(PAGE)
    refused = client.post(PAGE, {"name": "x", "scopes": ["incidents:read"]})

    assert page.status_code == 200 and "no role" in page.content.decode()
    assert refused.status_code == 400 and not ApiKey.objects.exists()


def test_base_menu_links_keys_page(viewer_client):
    assert f'href="{PAGE}"' in viewer_client.get("/").content.decode()


def test_keys_page_role_lowered_admin_key_refused_by_api(make_user, key_client):
    from aimsweb.services import user_set_role

    client, key = key_client(Role.ADMIN, scopes=["admin:read"])
    user_set_role(user=key.user, role=Role.VIEWER)

    response = client.get("/api/v1/connections")

    assert response.status_code == 403 and response.json()["code"] == "role_forbidden"
