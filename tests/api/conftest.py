"""API test helpers: a client calling with an API key of a given role and scopes."""

import pytest
from django.test import Client

from aimsweb.roles import Role
from api.scopes import SCOPES
from api.services.keys import api_key_create


@pytest.fixture
def key_client(make_user):
    """key_client(role, scopes=all the role may hold) -> (Client sending the key, the ApiKey)."""

    def make(role: Role = Role.RESPONDER, scopes: list[str] | None = None, username: str = ""):
        user = make_user(username or f"api-{role.value.lower()}", role)
        from api.services.keys import scopes_allowed

        chosen = scopes if scopes is not None else scopes_allowed(user)
        key, plaintext = api_key_create(user=user, name="tests", scopes=chosen, created_by=user)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
        return client, key

    return make


ALL_SCOPES = list(SCOPES)
