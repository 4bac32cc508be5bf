from django.core.management.base import BaseCommand

from monitors.retention import records_prune


class Command(BaseCommand):
    help = (
        "Delete webhook deliveries and task results older than their retention (AIMS_WEBHOOK_RETENTION_DAYS, "
        "AIMS_REJECTED_RETENTION_DAYS, AIMS_TASK_RESULT_RETENTION_DAYS); a daily schedule does the same."
    )

    def handle(self, *args, **options) -> None:
        result = records_prune()
        self.stdout.write(
            f"Deleted {result.deliveries} finished and {result.rejected} rejected webhook deliveries, "
            f"{result.task_results} task results."
        )
