"""The demo users' logins, printable again after `make run` (`manage.py demo_logins`, the ready banner).

demo_setup generates the demo users' passwords and keeps the ones it generated in a private file under var/ (mode
0600, as the demo webhook secret); Django itself keeps only their hashes. A kept password is printed only while it
still opens that user's account, so a password someone changed, and any real user's, is never shown."""

import json
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password

from aimsweb.roles import Role
from aimsweb.services import DemoUser

UNKNOWN_PASSWORD = "not known here (set by an older demo_setup, or changed since): `manage.py demo_setup --reset`"


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    username: str
    password: str  # '' when it cannot be shown; `note` says why
    note: str = ""


def demo_logins_path() -> Path:
    return Path(settings.VAR_DIR) / "demo-logins.json"


def _kept() -> dict[str, str]:
    try:
        kept = json.loads(demo_logins_path().read_text())
    except (OSError, ValueError):
        return {}
    return {str(name): str(password) for name, password in kept.items()} if isinstance(kept, dict) else {}


def demo_logins_remember(*, users: list[DemoUser]) -> None:
    """Keep the passwords demo_setup generated (not those set by AIMS_DEMO_PASSWORD_<ROLE>) for demo_logins."""
    kept = _kept()
    for user in users:
        if user.password and not settings.AIMS_DEMO_PASSWORDS.get(user.username):
            kept[user.username] = user.password
        elif user.password:
            kept.pop(user.username, None)  # set from the environment: not ours to write down
    path = demo_logins_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps(kept, indent=2))


def demo_logins_list() -> list[DemoLogin]:
    """Each demo user with the password to show, or why none is shown."""
    kept = _kept()
    usernames = [role.value.lower() for role in Role]
    users = {user.username: user for user in get_user_model()._default_manager.filter(username__in=usernames)}
    logins = []
    for role in Role:
        username = role.value.lower()
        user = users.get(username)
        from_environment = settings.AIMS_DEMO_PASSWORDS.get(username)
        if user is None:
            logins.append(DemoLogin(role, username, "", "not created yet: run `manage.py demo_setup`"))
        elif from_environment:
            logins.append(DemoLogin(role, username, "", f"the one in AIMS_DEMO_PASSWORD_{username.upper()}"))
        elif username in kept and check_password(kept[username], user.password):
            logins.append(DemoLogin(role, username, kept[username]))
        else:
            logins.append(DemoLogin(role, username, "", UNKNOWN_PASSWORD))
    return logins
