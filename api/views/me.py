"""/api/v1/me: who is calling. Open to every authenticated caller whatever the key's scopes, so a script can check
its key before it needs it."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from aimsweb.roles import user_role
from api.auth import api_key_of
from api.conventions import ConventionsMixin
from api.permissions import Access
from api.scopes import SCOPE_PERMISSIONS, SCOPES
from api.serializers.me import MeSerializer
from api.services.keys import scopes_allowed

# Every key passes: no scope and no role permission are needed (the schema says "*" and no permissions).
ANY_CALLER = Access("*", ())
API_PERMISSIONS = sorted({permission for permissions in SCOPE_PERMISSIONS.values() for permission in permissions})


class AuthenticatedCaller(BasePermission):
    """Any authenticated caller (unauthenticated: 401)."""

    def has_permission(self, request: Request, view) -> bool:
        return request.user is not None and request.user.is_authenticated


@extend_schema(
    tags=["account"],
    summary="Who am I",
    description="The caller: username, role, the permissions API operations check, and the key's name, prefix, "
    "scopes and expiry when called with a key. Any key may call it, whatever its scopes.",
)
class MeView(ConventionsMixin, generics.GenericAPIView):
    serializer_class = MeSerializer
    permission_classes = [AuthenticatedCaller]
    access = {"GET": ANY_CALLER}

    def get(self, request: Request) -> Response:
        user = request.user
        key = api_key_of(request)
        role = user_role(user)
        data = {
            "username": user.get_username(),
            "role": role.value if role else None,
            "authentication": "api_key" if key is not None else "session",
            "scopes": list(key.scopes) if key is not None else list(SCOPES),
            "scopes_allowed": scopes_allowed(user),  # type: ignore[arg-type]  # authenticated: a User
            "permissions": [permission for permission in API_PERMISSIONS if user.has_perm(permission)],
            "key": key,
        }
        return Response(self.get_serializer(data).data)
