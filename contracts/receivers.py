"""What the contracts app does when the layers below announce something (after their commit)."""

from django.dispatch import receiver

from contracts.services import queueing
from monitors import signals as monitors_signals


@receiver(monitors_signals.runs_succeeded, dispatch_uid="contracts-runs-succeeded")
def runs_succeeded_check(
    sender, *, connection_id: int, external_run_ids: list[str], pipeline_ids: list[int], **kwargs
) -> None:
    """A producing run succeeded: queue the checks of the contracts it feeds (one per contract, for its newest
    run of this batch)."""
    queueing.producer_checks_queue(connection_id=connection_id, external_run_ids=external_run_ids)
