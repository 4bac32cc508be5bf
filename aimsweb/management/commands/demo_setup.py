from django.conf import settings
from django.core.management.base import BaseCommand

from aimsweb.demo import (
    demo_contracts_ensure,
    demo_integrations_ensure,
    demo_notifications_ensure,
    demo_oncall_ensure,
    simulator_connections_ensure,
)
from aimsweb.demo_logins import demo_logins_remember
from aimsweb.realtime import announcements_off
from aimsweb.services import demo_users_ensure
from remediation.services import retry_policy_defaults_ensure


class Command(BaseCommand):
    help = (
        "Create the demo users (viewer, responder, admin), default retry policies, connections to the local "
        "simulator and contracts on its warehouse; print how to log in."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reset", action="store_true", help="Give existing demo users new passwords.")

    def handle(self, *args, reset: bool, **options) -> None:
        # `make run` sets the demo up before Redis and the web server start: no page is open to be told, and each
        # announcement would only fail with a warning.
        with announcements_off():
            self.setup(reset=reset)

    def setup(self, *, reset: bool) -> None:
        users = demo_users_ensure(passwords=settings.AIMS_DEMO_PASSWORDS, reset=reset)
        demo_logins_remember(users=users)
        created_policies = retry_policy_defaults_ensure()
        for name in created_policies:
            self.stdout.write(f"Created retry policy {name!r} (edit it in the admin).")
        for name in simulator_connections_ensure(simulator_url=settings.AIMS_SIMULATOR_URL):
            self.stdout.write(f"Created connection {name!r} to the local simulator, with a monitor polling it.")
        for name in demo_contracts_ensure():
            self.stdout.write(f"Created {name!r}: a demo contract (or the warehouse they are checked on).")
        for name in demo_notifications_ensure(simulator_url=settings.AIMS_SIMULATOR_URL):
            self.stdout.write(f"Created {name!r}: it posts to {settings.AIMS_SIMULATOR_URL}/_sim/inbox (see there).")
        for name in demo_oncall_ensure():
            self.stdout.write(f"Created {name!r}: the on-call schedule the demo route escalates to (see /oncall/).")
        for name in demo_integrations_ensure(simulator_url=settings.AIMS_SIMULATOR_URL):
            self.stdout.write(f"Created {name!r}: a webhook subscriber or ticket route on the local simulator.")
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"AIMS demo users, log in at {settings.AIMS_BASE_URL}/login/"))
        for user in users:
            password = user.password or "(unchanged; `.venv/bin/python manage.py demo_setup --reset` sets new ones)"
            self.stdout.write(f"  {user.role.value:<10} username {user.username:<10} password {password}")
        self.stdout.write("`.venv/bin/python manage.py demo_logins` prints them again.")
        self.stdout.write("")
