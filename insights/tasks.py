"""django-q2 tasks of the insights app: each loads ids, calls one service and lets errors surface."""

from insights.services import collect


def check_points_record_task(check_run_id: int) -> int:
    return collect.check_points_record(check_run_id=int(check_run_id))


def pipeline_days_record_task() -> int:
    return collect.pipeline_days_record()
