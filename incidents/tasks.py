"""django-q2 tasks of the incidents app: each loads ids, calls one service and lets errors surface."""

from incidents.services import (
    failures_triage,
    notifications_send,
    notifications_tick,
    remediation_tick,
    retry_attempt_execute,
    retry_attempt_follow,
    runs_succeeded,
)


def failures_triage_task(run_ids: list[int]) -> int:
    return failures_triage(run_ids=run_ids)


def retry_attempt_execute_task(attempt_id: int) -> str:
    return retry_attempt_execute(attempt_id=attempt_id).status


def retry_attempt_follow_task(attempt_id: int) -> str:
    return retry_attempt_follow(attempt_id=attempt_id).status


def runs_succeeded_task(connection_id: int, external_run_ids: list[str]) -> int:
    return runs_succeeded(connection_id=connection_id, external_run_ids=external_run_ids)


def notifications_send_task(notification_ids: list[int]) -> int:
    return notifications_send(notification_ids=notification_ids)


def remediation_tick_task() -> dict:
    return remediation_tick()


def notifications_tick_task() -> dict:
    return notifications_tick()
