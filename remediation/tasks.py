"""django-q2 tasks of the remediation app: each loads ids, calls one service and lets errors surface."""

from remediation.services import engine


def retry_attempt_execute_task(attempt_id: int) -> str:
    return engine.retry_attempt_execute(attempt_id=attempt_id).status


def retry_attempt_follow_task(attempt_id: int) -> str:
    return engine.retry_attempt_follow(attempt_id=attempt_id).status


def remediation_tick_task() -> dict:
    return engine.remediation_tick()
