"""django-q2 tasks of the tickets app: each calls one service and lets errors surface."""

from tickets.services import reconcile, worker


def ticket_incident_sync_task(incident_id: int) -> int:
    """Carry one incident's new sync jobs to its tickets (queued after the commit that wrote them)."""
    return worker.ticket_jobs_run(incident_id=incident_id)


def ticket_jobs_run_task() -> int:
    """Every minute: the jobs whose backoff is over."""
    return worker.ticket_jobs_run()


def ticket_routes_reconcile_task() -> dict[str, int]:
    return reconcile.ticket_routes_reconcile()
