"""API keys: created (the plaintext returned once), checked on every request, revoked."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from api.models import ApiKey
from api.scopes import SCOPE_PERMISSIONS, SCOPES, scope_problems

KEY_START = "aims_"
PREFIX_CHARS = 8  # the public lookup part after "aims_"
SECRET_BYTES = 30
MAX_EXPIRY_DAYS = 3650
# last_used_at is written at most this often per key: a busy script does not write a row per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _digest(plaintext: str) -> str:
    return hmac.new(settings.AIMS_API_KEY_PEPPER.encode(), plaintext.encode(), hashlib.sha256).hexdigest()


def scopes_allowed(user: User) -> list[str]:
    """The scopes a key of `user` may carry: those its role can use."""
    return [scope for scope in SCOPES if any(user.has_perm(perm) for perm in SCOPE_PERMISSIONS[scope])]


def api_key_create(
    *, user: User, name: str, scopes: list[str], created_by: User, expires_in_days: int | None = None
) -> tuple[ApiKey, str]:
    """Create a key for `user` (by themselves, or by an Admin) and return it with its plaintext, shown only now."""
    if created_by.pk != user.pk:
        if not created_by.has_perm("api.add_apikey"):
            raise PermissionDenied("Only an Admin may create a key for someone else.")
        if user.is_superuser and not created_by.is_superuser:
            raise PermissionDenied("A superuser's keys are created by a superuser.")
    if not user.is_active:
        raise ValidationError({"user": "This user is inactive."})
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the key a name of 1 to 100 characters."})
    if not scopes:
        raise ValidationError({"scopes": "Choose at least one scope."})
    if unknown := scope_problems(scopes):
        raise ValidationError({"scopes": f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(SCOPES)}."})
    allowed = scopes_allowed(user)
    if beyond := [scope for scope in scopes if scope not in allowed]:
        raise ValidationError({"scopes": f"Beyond {user.get_username()}'s role: {', '.join(beyond)}."})
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise ValidationError({"expires_in_days": f"Between 1 and {MAX_EXPIRY_DAYS} days, or none."})
    prefix = KEY_START + secrets.token_hex(PREFIX_CHARS // 2)
    plaintext = f"{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        digest=_digest(plaintext),
        scopes=sorted(set(scopes), key=list(SCOPES).index),
        expires_at=timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None,
        created_by=created_by,
    )
    return key, plaintext


def api_key_authenticate(plaintext: str) -> ApiKey | None:
    """The active key `plaintext` is, or None. Compared in constant time; the user must still be active."""
    prefix = plaintext[: len(KEY_START) + PREFIX_CHARS]
    if not prefix.startswith(KEY_START) or len(plaintext) > 200:
        return None
    key = ApiKey.objects.select_related("user").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.digest, _digest(plaintext)):
        return None
    if not key.is_active or not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_revoke(*, key_id: int, by: User) -> ApiKey:
    """Revoke a key (its owner, or an Admin). Revoking twice changes nothing."""
    key = ApiKey.objects.select_related("user").get(pk=key_id)
    if key.user_id != by.pk and not by.has_perm("api.change_apikey"):
        raise PermissionDenied("Only the key's owner or an Admin may revoke it.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated_at"])
    return key
