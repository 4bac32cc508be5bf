"""Live push latency: from a Databricks failure webhook being accepted (HTTP 202) to the new incident's row arriving
on an open incident-list websocket, while 50 failures a second arrive in the background. Metric `live_push_p95_ms`
(target <= 1000 ms).

The whole stack runs as in production, on this machine: PostgreSQL (from `make bench`), an embedded Redis on a unix
socket (django-q2 broker, cache and channel layer), daphne, a django-q2 cluster with Q_WORKERS workers, the offline
analyzer (no LLM), and the simulator in this process standing in for ADF and Databricks. The background load is a
thread failing random simulated pipelines and jobs (random corpus errors) 50 times a second; the simulator sends
each failure's Azure Monitor alert or Databricks notification to daphne's webhook URLs, as the platforms would.

A probe fails the reserved job `bench_live_probe` without a notification, posts the Databricks webhook itself
and takes t0 when the 202 arrives; t1 is the arrival of the first message on `/ws/incidents/` (default filters:
open incidents, newest first, as a Viewer) with a row for that job. Between the two lie the wait for a drain to take
the delivery in its batch (behind the deliveries the background sent before it), the platform lookups, the
analysis, the incident write and the push. Before each probe the job's open incident is resolved and the bench
waits for a push without its row; a row counts only when its incident has counted this probe's run (checked in the
database), so a late failure of an earlier probe is never taken for this one.

Ceiling, measured in the same run under the same load: the push path alone. After each probe a dedicated open
incident (last seen tomorrow, so it heads the list) gets a new marker in its title and `incidents_changed_broadcast`
is called from this process; the sample is the time until a push shows the marker. That is channel layer,
consumer, re-render and websocket, the tail every probe ends with, so value / ceiling says how much the work before
the push (queue, lookups, analysis, incident) adds.

Also printed: background failures injected and accepted per second, and the backlog (tasks still queued, deliveries
not yet processed) when the load stops: whether the system keeps up at this rate is part of the answer. A probe
that shows no row within 30 s counts as 30 s; after three in a row the probing stops (later probes would only wait
behind a longer queue) and the figure is a lower bound.
"""

import contextlib
import http.client
import json
import os
import re
import signal
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Metric, django_setup, p95, viewer_session_cookie
from bench.cpu import cpu_report
from bench.live_load import (
    CONNECTION_PREFIX,
    DATABRICKS_CONNECTION,
    PROBE_JOB,
    SECRET,
    BackgroundFailures,
    background_targets,
    connect,
    scenario,
)
from bench.live_socket import LiveList
from bench.processes import aims_serve, start_redis, stop_process

BACKGROUND_PER_SECOND = float(os.environ.get("AIMS_BENCH_LIVE_RATE", "50"))  # 50/s is the metric's load
WARMUP_PROBES = 6  # the first task of each kind in each worker pays for imports
PROBES = 40
PROBE_EVERY_SECONDS = 1.5
PROBE_TIMEOUT_SECONDS = 30.0  # a probe slower than this counts as this long (and is reported as missed)
GUARD_TIMEOUT_SECONDS = 15.0
Q_WORKERS = 3
CEILING_PIPELINE = "bench_live_ceiling"
STOP_AFTER_MISSES = 3  # the queue is not keeping up: later probes would only wait longer behind it
TARGET_MS = 1000.0

ROWS_ID = 'id="incident-rows"'  # the list's rows in a push, even when there are none
ROW = re.compile(r'<tr id="incident-(\d+)"[^>]*>(.*?)</tr>', re.S)


def _probe_rows(html: str) -> list[int]:
    """Ids of the incidents whose row names the probe job."""
    return [int(incident_id) for incident_id, row in ROW.findall(html) if PROBE_JOB in row]


def _row_shows(html: str, incident_id: int, text: str) -> bool:
    return any(int(found) == incident_id and text in row for found, row in ROW.findall(html))


# --- Probes --------------------------------------------------------------------------------------------------------


def _counted_in(incident_ids: list[int], run_id: str) -> bool:
    """Whether one of these incidents has counted the probe's run (set in the transaction that broadcasts)."""
    from incidents.models import FailureAnalysis

    return FailureAnalysis.objects.filter(
        incident_id__in=incident_ids, run__connection__name=DATABRICKS_CONNECTION, run__external_run_id=run_id
    ).exists()


def _resolve_probe_incidents(live: LiveList) -> None:
    """Resolve the probe job's open incidents, then wait (a while) for a push without them. An earlier probe's
    failure, late behind the queue, may open one again; the probe's own check of its run covers that case."""
    from incidents.models import Incident
    from incidents.services import SYSTEM, incident_resolve

    open_ids = list(
        Incident.objects.filter(pipeline__connection__name=DATABRICKS_CONNECTION, pipeline__name=PROBE_JOB)
        .exclude(status=Incident.Status.RESOLVED)
        .values_list("pk", flat=True)
    )
    if not open_ids:
        return
    live.discard()
    for incident_id in open_ids:
        incident_resolve(incident_id=incident_id, actor=SYSTEM, note="bench probe")
    live.wait_for(lambda html: ROWS_ID in html and not _probe_rows(html), GUARD_TIMEOUT_SECONDS)


def _post_webhook(port: int, body: dict) -> float:
    """POST the Databricks failure notification; the time the 202 arrived."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/hooks/databricks/{DATABRICKS_CONNECTION}/",
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "X-AIMS-Token": SECRET},
        )
        response = connection.getresponse()
        answer = response.read()
        accepted_at = time.perf_counter()
    finally:
        connection.close()
    if response.status != 202:
        raise SystemExit(f"the probe webhook answered {response.status}, expected 202: {answer[:300]!r}")
    return accepted_at


def _probe(sim, port: int, live: LiveList, workspace_id: int, timeout: float) -> float | None:
    """One probe: seconds from the 202 to the arrival of a row of the incident that counted this probe's run (None:
    not within `timeout`). A row of the probe job alone is not enough: when the queue falls behind, an earlier
    probe's failure can surface during a later probe."""
    _resolve_probe_incidents(live)
    live.discard()
    failure = sim.fail("databricks", PROBE_JOB, notify=False)
    t0 = _post_webhook(
        port,
        {
            "event_type": "jobs.on_failure",
            "workspace_id": str(workspace_id),
            "run": {"run_id": str(failure["run_id"])},
            "job": {"job_id": str(failure["job_id"])},
        },
    )
    run_id = str(failure["run_id"])
    arrived = live.wait_for(lambda html: bool(rows := _probe_rows(html)) and _counted_in(rows, run_id), timeout)
    return None if arrived is None else arrived[0] - t0


def _ceiling_incident() -> int:
    """An open incident of its own for the ceiling's samples, last seen tomorrow so that it heads the list."""
    from datetime import timedelta

    from django.utils import timezone

    from incidents.models import Incident
    from monitors.models import Connection, Pipeline

    connection = Connection.objects.get(name=DATABRICKS_CONNECTION)
    pipeline = Pipeline.objects.create(connection=connection, external_id="0", name=CEILING_PIPELINE)
    tomorrow = timezone.now() + timedelta(days=1)
    incident = Incident.objects.create(
        fingerprint="bench-live-ceiling",
        title=f"{CEILING_PIPELINE}: push check",
        connection=connection,
        pipeline=pipeline,
        first_seen_at=tomorrow,
        last_seen_at=tomorrow,
    )
    return incident.pk


def _push_only(live: LiveList, incident_id: int, number: int) -> float | None:
    """The ceiling: make the incident's row show a new marker, broadcast, and time until a push shows it."""
    from django.utils import timezone

    from incidents.models import Incident
    from incidents.realtime import incidents_changed_broadcast

    marker = f"push check {number}"
    # As a service's save() would: a changed incident has a new updated_at (pages key what they render by it).
    Incident.objects.filter(pk=incident_id).update(title=f"{CEILING_PIPELINE}: {marker}", updated_at=timezone.now())
    live.discard()
    t0 = time.perf_counter()
    incidents_changed_broadcast(incident_ids=[incident_id])  # outside a transaction: sent at once
    arrived = live.wait_for(lambda html: _row_shows(html, incident_id, marker), PROBE_TIMEOUT_SECONDS)
    return None if arrived is None else arrived[0] - t0


# --- The run -------------------------------------------------------------------------------------------------------


def _backlog(redis_url: str, since) -> dict:
    """Tasks waiting in the broker, deliveries received since `since` by status, and seconds since the task
    cluster last finished processing one."""
    import redis
    from django.conf import settings
    from django.db.models import Count, Max
    from django.utils import timezone

    from monitors.models import WebhookDelivery

    queued = redis.Redis.from_url(redis_url).llen(f"django_q:{settings.Q_CLUSTER['name']}:q")
    deliveries = WebhookDelivery.objects.filter(connection__name__startswith=CONNECTION_PREFIX)
    deliveries = deliveries.filter(created_at__gte=since)
    by_status = dict(deliveries.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    last = deliveries.aggregate(last=Max("processed_at"))["last"]
    idle = (timezone.now() - last).total_seconds() if last else None
    return {"queued_tasks": queued, "idle_seconds": idle, **by_status}


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _summary(label: str, samples_ms: list[float]) -> str:
    return f"{label}: median {statistics.median(samples_ms):.0f} ms, p95 {p95(samples_ms):.0f} ms"


def run() -> list[Metric]:
    django_setup()
    from django.test.utils import override_settings
    from django.utils import timezone

    from incidents.models import Incident
    from simulator.testing import run_simulator

    probes_ms: list[float] = []
    pushes_ms: list[float] = []
    missed = pushes_missed = 0
    with contextlib.ExitStack() as stack:
        # A plain SIGTERM would end this process without stopping what it started: exit through the clean-ups.
        stack.callback(signal.signal, signal.SIGTERM, signal.signal(signal.SIGTERM, _exit_on_sigterm))
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aims-live-")))
        redis_server, redis_url = start_redis(directory)
        stack.callback(stop_process, redis_server)
        # This process broadcasts the ceiling's events: it must use the same channel layer as daphne.
        layer = {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url], "prefix": "aims"}}
        stack.enter_context(override_settings(CHANNEL_LAYERS={"default": layer}))
        env = {"REDIS_URL": redis_url, "CHANNEL_LAYER_URL": redis_url, "AIMS_LLM_MODEL": ""}
        env["Q_WORKERS"] = str(Q_WORKERS)

        sim = stack.enter_context(run_simulator(scenario()))
        connect(sim)
        print(f"incidents in the database at the start: {Incident.objects.count():,} (the list shows the open ones)")
        ceiling_incident = _ceiling_incident()
        cookie = viewer_session_cookie()

        served = aims_serve(stack, env, redis_pid=redis_server.pid)
        port, base, meter = served.port, served.base, served.meter
        sim.set_notify(
            databricks_url=f"{base}/hooks/databricks/{DATABRICKS_CONNECTION}/",
            azure_monitor_url=f"{base}/hooks/azure-monitor/{CONNECTION_PREFIX}{{factory}}/",
            secret=SECRET,
        )
        live = LiveList(f"ws://127.0.0.1:{port}/ws/incidents/", cookie=cookie, origin=base)
        stack.callback(live.close)
        workspace_id = sim.scenario()["workspaces"][0]["workspace_id"]

        for _ in range(WARMUP_PROBES):  # imports, pools, the cluster's start; no load yet
            if _probe(sim, port, live, workspace_id, timeout=60.0) is None:
                raise SystemExit("a warm-up probe's incident never arrived over the websocket (see var/bench/*.log)")

        load_since = timezone.now()
        notified_before = sim.stats()["notifications"]["sent"]
        background = BackgroundFailures(sim, background_targets(sim), BACKGROUND_PER_SECOND)
        background.start()
        cpu_before = meter.snapshot()
        stack.callback(background.stop)
        time.sleep(2.0)  # let the load reach its steady rate before the first probe
        next_probe = time.perf_counter()
        in_a_row = 0
        for number in range(PROBES):
            next_probe += PROBE_EVERY_SECONDS
            latency = _probe(sim, port, live, workspace_id, PROBE_TIMEOUT_SECONDS)
            probes_ms.append((latency if latency is not None else PROBE_TIMEOUT_SECONDS) * 1000)
            missed += latency is None
            in_a_row = in_a_row + 1 if latency is None else 0
            push = _push_only(live, ceiling_incident, number)
            pushes_missed += push is None
            pushes_ms.append((push if push is not None else PROBE_TIMEOUT_SECONDS) * 1000)
            if in_a_row == STOP_AFTER_MISSES:
                print(f"{in_a_row} probes in a row showed no row within {PROBE_TIMEOUT_SECONDS:.0f} s: stopping early")
                break
            time.sleep(max(0.0, next_probe - time.perf_counter()))
        background.stop()
        cpu_after = meter.snapshot()
        backlog = _backlog(redis_url, load_since)
        notified = sim.stats()["notifications"]["sent"] - notified_before
        stats = sim.stats()["notifications"]

    seconds = background.seconds
    errors = f", last: {background.last_error}" if background.errors else ""
    print(
        f"background: {background.injected / seconds:.1f} failures/s injected for {seconds:.0f} s (target "
        f"{BACKGROUND_PER_SECOND:.0f}/s; {background.errors} errors{errors}); {notified / seconds:.1f} webhooks/s "
        f"accepted by AIMS (2xx); {stats['failed']} notifications refused or failed"
    )
    processed = backlog.get("processed", 0) + backlog.get("ignored", 0)
    print(
        f"backlog when the load stopped: {backlog['queued_tasks']:,} tasks queued in the broker; background deliveries "
        f"{processed:,} processed ({processed / seconds:.1f}/s), {backlog.get('accepted', 0):,} still waiting, "
        f"{backlog.get('failed', 0):,} failed"
    )
    print(f"CPU during the load, per background delivery processed ({processed:,}):")
    print("\n".join(cpu_report(cpu_before, cpu_after, processed)))
    if backlog["queued_tasks"] and (backlog["idle_seconds"] is None or backlog["idle_seconds"] > 10):
        idle = backlog["idle_seconds"]
        idle = "never" if idle is None else f"{idle:.0f} s before the load stopped"
        print(f"WARNING: the task cluster stalled: it last finished a delivery {idle}, with tasks still queued")
    print(f"websocket: {live.received:,} pushes received")
    print(f"probe latencies in order (ms): {[round(v) for v in probes_ms]}")
    print(_summary(f"webhook 202 -> row on the websocket ({len(probes_ms)} probes, {missed} missed)", probes_ms))
    label = f"ceiling, broadcast -> row on the websocket ({len(pushes_ms)} samples, {pushes_missed} missed)"
    print(_summary(label, pushes_ms))
    if missed:
        print(
            f"NOTE: {missed} probe(s) showed no row within {PROBE_TIMEOUT_SECONDS:.0f} s and count as that long: "
            "the figure is a lower bound"
        )
    value, ceiling = p95(probes_ms), p95(pushes_ms)
    return [
        Metric(
            metric="live_push_p95_ms",
            value=round(value, 1),
            unit="ms",
            ceiling=round(ceiling, 1),
            ratio=round(value / ceiling, 2),
            target=f"<= {TARGET_MS:.0f}",
        )
    ]
