"""django-q2 tasks of the incidents app: each loads ids, calls one service and lets errors surface."""

from incidents.services import notification_ticks, notifications, retries, triage


def failures_triage_task(run_ids: list[int]) -> int:
    return triage.failures_triage(run_ids=run_ids)


def runs_succeeded_task(connection_id: int, external_run_ids: list[str]) -> int:
    return retries.runs_succeeded(connection_id=connection_id, external_run_ids=external_run_ids)


def notifications_send_task(notification_ids: list[int]) -> int:
    return notifications.notifications_send(notification_ids=notification_ids)


def notifications_tick_task() -> dict:
    return notification_ticks.notifications_tick()


def silences_end_task() -> int:
    return retries.silences_end()
