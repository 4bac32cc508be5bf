"""django-q2 tasks of the incidents app: each loads ids, calls one service and lets errors surface."""

from incidents.services import failure_analyze


def failure_analyze_task(run_id: int) -> int:
    return failure_analyze(run_id=run_id).pk
