from django.core.management.base import BaseCommand

from monitors.services import monitor_schedules_sync


class Command(BaseCommand):
    help = "Make the task scheduler hold one poll schedule per enabled monitor (safe to run any number of times)."

    def handle(self, *args, **options) -> None:
        result = monitor_schedules_sync()
        self.stdout.write(f"{result['schedules']} poll schedule(s) in place, {result['removed']} removed.")
