"""django-q2 tasks of the insights app: each loads ids, calls one service and lets errors surface."""

from aimsweb.batch import each_then_raise
from insights.services import collect, missed
from monitors.models import Connection


def check_points_record_task(check_run_id: int) -> int:
    return collect.check_points_record(check_run_id=int(check_run_id))


def pipeline_days_record_task() -> int:
    return collect.pipeline_days_record()


def missed_runs_check_task() -> int:
    return missed.missed_runs_check()


def platform_schedules_refresh_task() -> int:
    """Every enabled connection's schedules; one that cannot be read keeps what was read before."""
    kept: list[int] = []
    connections = list(Connection.objects.filter(enabled=True).values_list("pk", flat=True))
    each_then_raise(connections, lambda pk: kept.append(missed.platform_schedules_refresh(connection_id=pk)))
    return sum(kept)


def cadences_learn_task() -> int:
    return missed.cadences_learn()


def points_prune_task() -> int:
    return collect.points_prune()
