from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError

from aimsweb.demo_logins import demo_logins_list


class Command(BaseCommand):
    help = "Print the demo users' logins again (the passwords demo_setup generated, while they still work)."

    def handle(self, *args, **options) -> None:
        try:
            logins = demo_logins_list()
        except DatabaseError:  # no tables yet: nothing was set up
            self.stdout.write("No demo users yet: `make run` (or `manage.py migrate` and `demo_setup`) creates them.")
            return
        self.stdout.write(f"Log in at {settings.AIMS_BASE_URL}/login/ as:")
        for login in logins:
            shown = f"password {login.password}" if login.password else f"password not shown: {login.note}"
            self.stdout.write(f"  {login.role.value:<10} username {login.username:<10} {shown}")
