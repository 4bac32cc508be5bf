from django.core.management.base import BaseCommand

from aimsweb.schedules import schedules_sync


class Command(BaseCommand):
    help = "Make the task scheduler hold exactly the schedules the apps declare (safe to run any number of times)."

    def handle(self, *args, **options) -> None:
        result = schedules_sync()
        self.stdout.write(f"{result['schedules']} schedule(s) in place, {result['removed']} removed.")
