"""Who calls: an API key (`Authorization: Bearer aims_…`) or a signed-in browser session (CSRF checked)."""

from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from api.models import ApiKey
from api.services.keys import api_key_authenticate


class BearerKeyAuthentication(BaseAuthentication):
    """`Authorization: Bearer <key>`. Any other scheme is not ours (the request is then unauthenticated: 401)."""

    def authenticate(self, request: Request) -> tuple | None:
        header = get_authorization_header(request).decode("latin-1")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        key = api_key_authenticate(token.strip()) if token.strip() else None
        if key is None:
            raise AuthenticationFailed("The API key is unknown, expired or revoked.", code="invalid_api_key")
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="aims"'


class BrowserSessionAuthentication(SessionAuthentication):
    """The pages' own session: the same endpoints from the browser, with Django's CSRF check on writes."""


def api_key_of(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None
