"""Writes that belong to the project as a whole: users and their roles, and the demo setup."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.db import transaction

from aimsweb.roles import Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    password: str | None  # None when an existing password was kept


def user_set_role(*, user: AbstractUser, role: Role | None) -> None:
    """Make the user hold exactly this role's group (None: no role); only Admins reach the Django admin site.

    The user's open live pages check their access again (aimsweb.live_access, on the group change)."""
    user.groups.set([Group.objects.get(name=role.value)] if role else [])
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["is_staff"])


@transaction.atomic
def demo_users_ensure(*, passwords: dict[str, str], reset: bool = False) -> list[DemoUser]:
    """Create the users viewer, responder and admin with their roles.

    A password from `passwords` (by username) is always applied; otherwise a new user, or every user when `reset`,
    gets a generated one. Existing users keep theirs, and the result says so with `password=None`.
    """
    user_model = get_user_model()
    result = []
    for role in Role:
        username = role.value.lower()
        user, created = user_model.objects.get_or_create(username=username)
        password = passwords.get(username) or (secrets.token_urlsafe(12) if created or reset else None)
        if password:
            user.set_password(password)
            user.save(update_fields=["password"])
        user_set_role(user=user, role=role)
        result.append(DemoUser(username=username, role=role, password=password))
    return result
