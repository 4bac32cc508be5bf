"""django-q2 tasks of the monitors app: each loads ids, calls one service and lets errors surface."""

from monitors import retention
from monitors.services import detail, drains, polling


def monitor_poll_task(monitor_id: int) -> dict:
    return polling.monitor_poll(monitor_id=int(monitor_id)).__dict__


def failures_enrich_task(connection_id: int, external_run_ids: list[str]) -> int:
    return detail.failures_enrich(connection_id=connection_id, external_run_ids=external_run_ids)


def webhook_deliveries_drain_task(slot: int = 0) -> int:
    return drains.webhook_deliveries_drain(slot=int(slot))


def webhooks_tick_task() -> None:
    drains.webhook_drain_queue()


def webhook_delivery_process_task(delivery_id: int) -> int:
    """Queued by earlier versions, one per delivery: now a drain like any other."""
    return drains.webhook_deliveries_drain()


def records_prune_task() -> dict:
    return retention.records_prune().__dict__
