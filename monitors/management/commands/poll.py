from collections.abc import Iterable

from django.core.management.base import BaseCommand, CommandError

from monitors.clients.base import SourceError
from monitors.models import Monitor
from monitors.services import monitor_poll


class Command(BaseCommand):
    help = "Poll monitors now, in this process (all enabled ones, or those named as connection/monitor)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("monitors", nargs="*", help="connection/monitor names; default: every enabled monitor")

    def handle(self, *args, monitors: list[str], **options) -> None:
        chosen: Iterable[Monitor] = Monitor.objects.select_related("connection").filter(enabled=True)
        if monitors:
            pairs = [name.partition("/") for name in monitors]
            found = [m for m in chosen if (m.connection.name, "/", m.name) in pairs]
            missing = set(monitors) - {f"{m.connection.name}/{m.name}" for m in found}
            if missing:
                raise CommandError(f"no enabled monitor named {', '.join(sorted(missing))}")
            chosen = found
        failed = 0
        for monitor in chosen:
            try:
                result = monitor_poll(monitor_id=monitor.pk)
            except SourceError as exc:
                failed += 1
                self.stderr.write(f"{monitor}: FAILED: {exc}")
                continue
            if result.skipped:
                self.stdout.write(f"{monitor}: skipped (another poll holds it)")
            else:
                self.stdout.write(
                    f"{monitor}: {result.pages} page(s), {result.runs_seen} runs seen, {result.created} new, "
                    f"{result.updated} changed, {result.failures_queued} failure(s) queued for detail"
                )
        if failed:
            raise CommandError(f"{failed} monitor(s) could not be polled")
