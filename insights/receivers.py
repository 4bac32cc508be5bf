"""What the insights app does when the layers below announce something (after their commit)."""

from django.dispatch import receiver
from django_q.tasks import async_task

from contracts import signals as contracts_signals
from insights import tasks


@receiver(contracts_signals.check_measured, dispatch_uid="insights-check-measured")
def check_measured_record(sender, *, check_run_id: int, **kwargs) -> None:
    """A check measured its tables: record the points and score them, in a task of their own."""
    async_task(tasks.check_points_record_task, check_run_id, group="insights")
