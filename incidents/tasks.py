"""django-q2 tasks of the incidents app: each loads ids, calls one service and lets errors surface."""

from incidents.services import failures_analyze


def failures_analyze_task(run_ids: list[int]) -> int:
    return failures_analyze(run_ids=run_ids)
