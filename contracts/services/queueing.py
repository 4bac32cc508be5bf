"""When contracts are checked: after a producing run succeeds (a contract names its producers: connection and
pipeline name pattern), on the contract's own schedule, and when a Responder asks."""

import fnmatch
import time
from datetime import timedelta
from functools import partial

from django.db import transaction
from django.db.models import Max
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_q.tasks import async_task

from contracts import tasks
from contracts.models import CheckRun, ContractProducer, DataContract
from monitors.models import PipelineRun


def _queue(contract_id: int, trigger: str, run_id: int | None = None, requested_by_id: int | None = None) -> None:
    task = partial(async_task, tasks.contract_check_task, contract_id, trigger, run_id, requested_by_id)
    transaction.on_commit(partial(task, group="contract-checks"))


# Connections that produce for some contract, read at most every PRODUCERS_TTL seconds: successes arrive with
# every poll page and webhook, and most connections feed no contract. A producer saved in this process clears it at
# once; another process sees it within the TTL.
PRODUCERS_TTL = 30.0


class _ProducingConnections:
    read_at = -PRODUCERS_TTL
    ids: frozenset[int] = frozenset()

    @classmethod
    def get(cls) -> frozenset[int]:
        now = time.monotonic()
        if now - cls.read_at > PRODUCERS_TTL:
            cls.ids = frozenset(ContractProducer.objects.values_list("connection_id", flat=True).distinct())
            cls.read_at = now
        return cls.ids

    @classmethod
    def forget(cls) -> None:
        cls.read_at = -PRODUCERS_TTL


@receiver([post_save, post_delete], sender=ContractProducer, dispatch_uid="contracts-producers-changed")
def producers_changed(sender, **kwargs) -> None:
    _ProducingConnections.forget()


def producer_checks_queue(*, connection_id: int, external_run_ids: list[str]) -> int:
    """Queue a check of every enabled contract fed by one of these succeeded runs (once per contract, for the newest
    run). Returns how many were queued; a connection that produces for no contract costs no query."""
    if connection_id not in _ProducingConnections.get():
        return 0
    producers = list(
        ContractProducer.objects.filter(
            connection_id=connection_id, contract__enabled=True, contract__active_version__isnull=False
        ).values_list("contract_id", "pipeline_pattern")
    )
    if not producers:
        return 0
    runs = (
        PipelineRun.objects.filter(connection_id=connection_id, external_run_id__in=external_run_ids)
        .select_related("pipeline")
        .order_by("started_at", "id")
    )
    newest: dict[int, int] = {}
    for run in runs:
        for contract_id, pattern in producers:
            if fnmatch.fnmatchcase(run.pipeline.name, pattern):
                newest[contract_id] = run.pk
    for contract_id, run_id in newest.items():
        _queue(contract_id, CheckRun.Trigger.RUN, run_id)
    return len(newest)


def contracts_due_queue() -> int:
    """Queue the checks of enabled contracts whose schedule (every N minutes) is due."""
    now = timezone.now()
    contracts = (
        DataContract.objects.filter(enabled=True, active_version__isnull=False, check_every_minutes__gt=0)
        .exclude(warehouse=None)
        .annotate(last=Max("check_runs__started_at"))
        .values_list("pk", "check_every_minutes", "last")
    )
    due = [pk for pk, minutes, last in contracts if last is None or last <= now - timedelta(minutes=minutes)]
    for contract_id in due:
        _queue(contract_id, CheckRun.Trigger.SCHEDULE)
    return len(due)


def contract_check_request(*, contract_id: int, requested_by_id: int | None = None) -> None:
    """A person asked to check now (the page's "Check now"): queued like the others, with who asked."""
    _queue(contract_id, CheckRun.Trigger.MANUAL, requested_by_id=requested_by_id)
