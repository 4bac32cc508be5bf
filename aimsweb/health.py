"""/healthz: the state of the database and the task queue, for load balancers and people, without login."""

import time
from datetime import timedelta

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Failure
from django_q.status import Stat


def _database_state() -> dict:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return {"ok": False, "vendor": connection.vendor, "error": exc.__class__.__name__}
    return {"ok": True, "vendor": connection.vendor, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def _task_queue_state(database_ok: bool) -> dict:
    broker = get_broker()
    state: dict = {"broker": "redis" if Conf.REDIS and not Conf.ORM else "orm"}
    try:
        state["queued"] = broker.queue_size()
        clusters = Stat.get_all(broker=broker)
    except Exception as exc:  # noqa: BLE001 - any broker failure is a state to report, not a crash
        return {**state, "ok": False, "error": exc.__class__.__name__}
    state["clusters"] = len(clusters)
    state["workers"] = sum(len(stat.workers) for stat in clusters)
    if database_ok:
        # Successful tasks are not stored (Q_SAVE_LIMIT); failed ones always are.
        state["failed_last_hour"] = Failure.objects.filter(stopped__gte=timezone.now() - timedelta(hours=1)).count()
    state["ok"] = state["clusters"] > 0
    return state


@login_not_required
@never_cache
@require_GET
async def livez(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else, so it is also the benchmarks' no-op endpoint."""
    return JsonResponse({"status": "alive"})


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers (503 when it does not); the task queue's state is reported either way."""
    database = _database_state()
    task_queue = _task_queue_state(database["ok"])
    status = "ok" if database["ok"] and task_queue["ok"] else ("degraded" if database["ok"] else "down")
    return JsonResponse(
        {"status": status, "database": database, "task_queue": task_queue}, status=200 if database["ok"] else 503
    )
