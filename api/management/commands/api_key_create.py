"""`manage.py api_key_create USERNAME --scope incidents:read [--scope …] [--expires DAYS] [--name NAME]`: create an
API key for a user (for scripts and deployment); the key is printed once, alone on the last line."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from api.scopes import SCOPES
from api.services.keys import api_key_create


class Command(BaseCommand):
    help = "Create an API key for USERNAME with the given scopes; prints the key once, on the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--scope", action="append", default=[], help=f"Repeatable. One of: {', '.join(SCOPES)}.")
        parser.add_argument("--expires", type=int, default=None, metavar="DAYS", help="Days until it expires.")
        parser.add_argument("--name", default="created by manage.py api_key_create")

    def handle(self, *args, username: str, scope: list[str], expires: int | None, name: str, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            key, plaintext = api_key_create(
                user=user, name=name, scopes=scope, created_by=user, expires_in_days=expires
            )
        except ValidationError as exc:
            problems = (f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
            raise CommandError("; ".join(problems)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        expiry = key.expires_at.isoformat() if key.expires_at else "never"
        self.stdout.write(f"API key {key.prefix}… for {username}, scopes {', '.join(key.scopes)}, expires {expiry}.")
        self.stdout.write("It is shown only now; send it as `Authorization: Bearer <key>`.")
        self.stdout.write(plaintext)
