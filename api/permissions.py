"""Every operation names the scope a key needs and the permissions (any one) the user's role needs; a request needs
both. An operation without a rule is refused (deny by default)."""

from dataclasses import dataclass

from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from api.auth import api_key_of


@dataclass(frozen=True)
class Access:
    scope: str
    permissions: tuple[str, ...]


def access_for(view, method: str) -> Access | None:
    """The rule of the view's action (a viewset's @action or list/retrieve/…), else of the HTTP method."""
    by_action = getattr(view, "access_by_action", {})
    action = getattr(view, "action", None)
    if action in by_action:
        return by_action[action]
    by_method = getattr(view, "access", {})
    return by_method.get("GET" if method in {"HEAD", "OPTIONS"} else method)


class ScopedRolePermission(BasePermission):
    def has_permission(self, request: Request, view) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False  # DRF answers 401
        rule = access_for(view, request.method or "GET")
        if rule is None:
            raise PermissionDenied("This operation is not open to API callers.", code="operation_forbidden")
        key = api_key_of(request)
        if key is not None and rule.scope not in key.scopes:
            raise PermissionDenied(f"This API key lacks the scope {rule.scope}.", code="scope_missing")
        if not any(user.has_perm(permission) for permission in rule.permissions):
            raise PermissionDenied("Your role does not allow this; ask an Admin.", code="role_forbidden")
        return True
