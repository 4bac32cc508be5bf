"""Storm: 2,000 failures from 400 pipelines with 3 shared causes within 60 s, through the real intake, must end in 3
incidents and one page per channel per storm.

The whole stack runs as in production, on this machine (as in bench/live_push.py): PostgreSQL (from `make bench`),
an embedded Redis (broker, cache, channel layer), daphne, a django-q2 cluster, the offline analyzer, and the simulator
in this process standing in for ADF and Databricks. Three shared dependencies fail: the self-hosted integration
runtime of one factory (200 pipelines), the service principal of another (100 pipelines: AADSTS7000222) and a
Databricks workspace's control plane (100 jobs). Each pipeline and job fails 5 times, round-robin, spread evenly over
60 s; the simulator notifies AIMS of each failure (Azure Monitor alerts, Databricks job notifications) as the
platforms would. Two webhook channels (the simulator's inbox) are routed every bench incident.

Metrics, each with a ceiling measured in the same run:
- `storm_incidents`: incidents opened (target 3). Ceiling: the incidents one per pipeline and signature would have
  opened, counted from the same failures' analyses (what AIMS did before storms were grouped).
- `storm_pages_per_channel`: pages (opened, reopened, escalated) per channel, the most of the two (target <= 3;
  resolves are not pages). Ceiling: the same per-pipeline incident count (each would have paged).
- `storm_first_incident_ms`: from the first failure sent to the first incident row arriving on the incident list's
  websocket (as a Viewer). Ceiling: the push path alone (a broadcast until the row shows a new marker), median of 5.
- `storm_all_recorded_s`: from the first failure sent until every failure is counted in an incident (but those whose
  notification the simulator gave up delivering, reported apart: only a poll would take them in). Ceiling: the time
  it took to send them all (nothing can be recorded before it is sent).
"""

import contextlib
import os
import re
import signal
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.common import Metric, django_setup, viewer_session_cookie
from bench.cpu import cpu_report
from bench.live_socket import LiveList
from bench.processes import aims_serve, start_redis, stop_process

PREFIX = "bench-storm-"
SECRET = "bench-storm-webhook-secret-0123456789"
DATABRICKS_CONNECTION = f"{PREFIX}dbx"
CAUSES = [  # (cause, source, factory or workspace, how many pipelines or jobs)
    ("shir_offline", "adf", "adf-storm-shir", 200),
    ("sp_expired", "adf", "adf-storm-sp", 100),
    ("workspace_outage", "databricks", None, 100),
]
FAILURES_EACH = 5
SEND_SECONDS = 60.0
RECORD_TIMEOUT_SECONDS = float(os.environ.get("AIMS_BENCH_STORM_TIMEOUT", "900"))
Q_WORKERS = 3
CHANNELS = ("bench-storm-teams", "bench-storm-hook")
CEILING_PIPELINE = "bench_storm_ceiling"
WARM_UP = [("adf", "warm_up_pipeline"), ("databricks", "warm_up_job")]  # outside the storm and its route
ROW = re.compile(r'<tr id="incident-(\d+)"[^>]*>(.*?)</tr>', re.S)
STORM_NAME = re.compile(r"\bst_(?:shir|sp|job)_\d{3}\b")


def scenario() -> dict:
    """Quiet (no schedule), at real speed, with the storm's two factories and workspace only."""
    import copy

    from simulator.scenarios import BUILTIN_SCENARIOS

    scenario = copy.deepcopy(BUILTIN_SCENARIOS["quiet"])
    scenario["speed"] = 1.0
    scenario["warehouse_loads"] = []

    def pipelines(kind: str, count: int) -> list[dict]:
        return [
            {"name": f"st_{kind}_{n:03d}", "activities": ["Copy data", "Transform"], "interval_seconds": 0}
            for n in range(count)
        ]

    scenario["factories"] = [
        {"resource_group": "rg-sim", "factory_name": factory, "pipelines": pipelines(kind, count)}
        for (_, _, factory, count), kind in zip(CAUSES[:2], ("shir", "sp"), strict=True)
    ]
    scenario["factories"][0]["pipelines"].append(
        {"name": WARM_UP[0][1], "activities": ["Copy data"], "interval_seconds": 0}
    )
    workspace = scenario["workspaces"][0]
    workspace["jobs"] = [
        {"name": f"st_job_{n:03d}", "tasks": ["ingest", "transform"], "interval_seconds": 0}
        for n in range(CAUSES[2][3])
    ] + [{"name": WARM_UP[1][1], "tasks": ["ingest"], "interval_seconds": 0}]
    return scenario


def _warm_up(sim, live: LiveList) -> None:
    """A failure of a pipeline and of a job outside the storm (and its routes), each until its incident shows on the
    websocket: the workers' first tasks pay for imports and connections, as a running system's have long since."""
    for source, name in WARM_UP:
        live.discard()
        sim.fail(source, name)
        if live.wait_for(lambda html, name=name: name in html, 120.0) is None:
            raise SystemExit(f"the warm-up failure of {name} never showed on the websocket (see var/bench/*.log)")


def _connect(sim) -> None:
    """AIMS connections to the simulator, made afresh (one per factory, named after it, and one for the workspace),
    and two webhook channels routed every storm pipeline, with room for every page (no digest)."""
    from incidents.models import Incident, NotificationChannel, NotificationRoute
    from monitors.models import Connection

    Incident.objects.filter(connection__name__startswith=PREFIX).delete()
    Connection.objects.filter(name__startswith=PREFIX).delete()
    scenario = sim.scenario()
    for factory in scenario["factories"]:
        connection = Connection(
            name=f"{PREFIX}{factory['factory_name']}",
            kind=Connection.Kind.ADF,
            is_simulator=True,
            host=sim.url,
            auth_method=Connection.AuthMethod.STATIC_TOKEN,
            subscription_id=factory["subscription_id"],
            resource_group=factory["resource_group"],
            factory_name=factory["factory_name"],
        )
        connection.set_webhook_secret(SECRET)
        connection.save()
    connection = Connection(
        name=DATABRICKS_CONNECTION,
        kind=Connection.Kind.DATABRICKS,
        is_simulator=True,
        host=sim.url,
        auth_method=Connection.AuthMethod.PAT,
    )
    connection.set_secret(scenario["workspaces"][0]["token"])
    connection.set_webhook_secret(SECRET)
    connection.save()
    NotificationRoute.objects.filter(name=f"{PREFIX}route").delete()
    NotificationChannel.objects.filter(name__in=CHANNELS).delete()
    route = NotificationRoute.objects.create(name=f"{PREFIX}route", pipeline_pattern="st_*")
    for name in CHANNELS:
        channel = NotificationChannel(name=name, kind="webhook", rate_limit_count=10_000, rate_limit_minutes=60)
        channel.set_url(f"{sim.url}/_sim/inbox/{name}")
        channel.set_signing_secret("s" * 32)
        channel.save()
        route.channels.add(channel)


def _failures() -> list[tuple[str, str, str]]:
    """(source, name, cause) of every failure, round-robin over the pipelines and jobs, FAILURES_EACH rounds."""
    targets = [
        (source, f"st_{kind}_{n:03d}", cause)
        for (cause, source, _, count), kind in zip(CAUSES, ("shir", "sp", "job"), strict=True)
        for n in range(count)
    ]
    return targets * FAILURES_EACH


class Sender(threading.Thread):
    """Sends the failures at an even rate over SEND_SECONDS; keeps their run ids."""

    def __init__(self, sim, failures: list[tuple[str, str, str]]) -> None:
        super().__init__(name="storm-sender", daemon=True)
        self.sim, self.failures = sim, failures
        self.run_ids: list[str] = []
        self.errors = 0
        self.last_error = ""
        self.started_at = self.finished_at = 0.0
        self.first_sent = threading.Event()

    def run(self) -> None:
        from simulator.storm_causes import STORM_CAUSES

        interval = SEND_SECONDS / len(self.failures)
        self.started_at = next_at = time.perf_counter()
        for source, name, cause in self.failures:
            try:
                answer = self.sim.fail(source, name, corpus_id=STORM_CAUSES[cause].id)
                self.run_ids.append(str(answer["run_id"]))
            except Exception as exc:  # noqa: BLE001 - counted and reported
                self.errors += 1
                self.last_error = repr(exc)
            self.first_sent.set()
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        self.finished_at = time.perf_counter()


def _recorded(run_ids: list[str]) -> int:
    """How many of these runs have been counted in an incident."""
    from incidents.models import FailureAnalysis

    return FailureAnalysis.objects.filter(
        run__connection__name__startswith=PREFIX, run__external_run_id__in=run_ids, incident__isnull=False
    ).count()


def _undelivered(sim, run_ids: list[str]) -> set[str]:
    """The runs whose notification the simulator gave up delivering (every attempt refused or timed out): they reach
    AIMS only by a poll, which this bench does not run."""
    notifications = sim.notifications()
    failed = {str(item["run_id"]) for item in notifications if item["run_id"] is not None and not item["ok"]}
    delivered = {str(item["run_id"]) for item in notifications if item["run_id"] is not None and item["ok"]}
    return (failed - delivered) & set(run_ids)


def _per_pipeline_incidents(run_ids: list[str]) -> int:
    """The incidents one per connection, pipeline and signature would have opened for these runs."""
    from incidents.models import FailureAnalysis

    return (
        FailureAnalysis.objects.filter(run__connection__name__startswith=PREFIX, run__external_run_id__in=run_ids)
        .values_list("run__connection_id", "run__pipeline_id", "signature")
        .distinct()
        .count()
    )


def _pages() -> dict[str, int]:
    """Pages per channel (not resolves) for the bench's incidents."""
    from django.db.models import Count

    from incidents.models import Notification

    rows = (
        Notification.objects.filter(channel__name__in=CHANNELS, incident__connection__name__startswith=PREFIX)
        .exclude(event=Notification.Event.RESOLVED)
        .values("channel__name")
        .annotate(n=Count("pk"))
    )
    return dict.fromkeys(CHANNELS, 0) | {row["channel__name"]: row["n"] for row in rows}


def _push_only(live: LiveList, samples: int = 5) -> list[float]:
    """The ceiling of the first-incident time: a broadcast until the row shows a new marker (ms each)."""
    from datetime import timedelta

    from django.utils import timezone

    from incidents.models import Incident
    from incidents.realtime import incidents_changed_broadcast
    from monitors.models import Connection, Pipeline

    connection = Connection.objects.get(name=DATABRICKS_CONNECTION)
    pipeline = Pipeline.objects.create(connection=connection, external_id="0", name=CEILING_PIPELINE)
    tomorrow = timezone.now() + timedelta(days=1)
    incident = Incident.objects.create(
        fingerprint="bench-storm-ceiling",
        title="push check",
        connection=connection,
        pipeline=pipeline,
        first_seen_at=tomorrow,
        last_seen_at=tomorrow,
    )
    times = []
    for number in range(samples):
        marker = f"push check {number}"
        Incident.objects.filter(pk=incident.pk).update(title=marker, updated_at=timezone.now())
        live.discard()
        t0 = time.perf_counter()
        incidents_changed_broadcast(incident_ids=[incident.pk])
        arrived = live.wait_for(
            lambda html, marker=marker: any(int(i) == incident.pk and marker in row for i, row in ROW.findall(html)),
            30.0,
        )
        times.append(((arrived[0] if arrived else t0 + 30.0) - t0) * 1000)
    return times


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def run() -> list[Metric]:
    django_setup()
    from django.test.utils import override_settings

    from incidents.models import Incident
    from simulator.testing import run_simulator

    with contextlib.ExitStack() as stack:
        stack.callback(signal.signal, signal.SIGTERM, signal.signal(signal.SIGTERM, _exit_on_sigterm))
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aims-storm-")))
        redis_server, redis_url = start_redis(directory)
        stack.callback(stop_process, redis_server)
        layer = {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url], "prefix": "aims"}}
        stack.enter_context(override_settings(CHANNEL_LAYERS={"default": layer}))
        sim = stack.enter_context(run_simulator(scenario()))
        env = {
            "REDIS_URL": redis_url,
            "CHANNEL_LAYER_URL": redis_url,
            "AIMS_LLM_MODEL": "",
            "Q_WORKERS": str(Q_WORKERS),
            "AIMS_OUTBOUND_LOOPBACK_ORIGINS": sim.url,
            "AIMS_STORM_WINDOW_MINUTES": "30",
        }
        stack.enter_context(override_settings(AIMS_OUTBOUND_LOOPBACK_ORIGINS=[sim.url]))
        _connect(sim)
        cookie = viewer_session_cookie()
        served = aims_serve(stack, env, redis_pid=redis_server.pid)
        port, base, meter = served.port, served.base, served.meter
        sim.set_notify(
            databricks_url=f"{base}/hooks/databricks/{DATABRICKS_CONNECTION}/",
            azure_monitor_url=f"{base}/hooks/azure-monitor/{PREFIX}{{factory}}/",
            secret=SECRET,
        )
        live = LiveList(f"ws://127.0.0.1:{port}/ws/incidents/", cookie=cookie, origin=base)
        stack.callback(live.close)
        _warm_up(sim, live)

        failures = _failures()
        sender = Sender(sim, failures)
        cpu_before = meter.snapshot()
        live.discard()
        sender.start()
        sender.first_sent.wait(30)
        first = live.wait_for(lambda html: bool(STORM_NAME.search(html)) and bool(ROW.search(html)), 120.0)
        first_ms = ((first[0] if first else time.perf_counter()) - sender.started_at) * 1000
        sender.join()
        send_seconds = sender.finished_at - sender.started_at
        deadline = time.perf_counter() + RECORD_TIMEOUT_SECONDS
        recorded, undelivered, checked_at = 0, set(), 0.0
        while time.perf_counter() < deadline:
            recorded = _recorded(sender.run_ids)
            if time.perf_counter() - checked_at > 10:
                undelivered, checked_at = _undelivered(sim, sender.run_ids), time.perf_counter()
            if recorded >= len(sender.run_ids) - len(undelivered):
                break
            time.sleep(0.5)
        all_recorded_s = time.perf_counter() - sender.started_at
        cpu_after = meter.snapshot()
        time.sleep(5.0)  # the last pages of what was recorded go out
        incidents = list(
            Incident.objects.filter(connection__name__startswith=PREFIX)
            .exclude(pipeline__name__in=[CEILING_PIPELINE, *(name for _, name in WARM_UP)])
            .values_list("pk", "title", "occurrence_count")
        )
        per_pipeline = _per_pipeline_incidents(sender.run_ids)
        pages = _pages()
        inbox = {name: len(sim.inbox(name)) for name in CHANNELS}
        ceiling_ms = statistics.median(_push_only(live))

    missed = len(sender.run_ids) - len(undelivered) - recorded
    print(
        f"sent {len(sender.run_ids):,} failures in {send_seconds:.1f} s ({sender.errors} errors"
        f"{', last: ' + sender.last_error if sender.errors else ''}); recorded {recorded:,}"
        + (f"; NOT recorded within {RECORD_TIMEOUT_SECONDS:.0f} s: {missed:,} (a lower bound)" if missed else "")
    )
    if undelivered:
        print(f"the simulator could not deliver the notification of {len(undelivered)} failure(s) (not counted)")
    for pk, title, count in incidents[:10]:
        print(f"  incident #{pk}: {count} occurrences: {title[:90]}")
    print(f"incidents: {len(incidents)}; one per pipeline and signature would have been {per_pipeline}")
    print(f"pages per channel: {pages}; messages in the simulator's inboxes (pages and resolves): {inbox}")
    print(f"CPU while the storm was taken in, per failure ({recorded:,}):")
    print("\n".join(cpu_report(cpu_before, cpu_after, max(recorded, 1))))
    most_pages = max(pages.values())
    return [
        Metric("storm_incidents", len(incidents), "count", per_pipeline, round(len(incidents) / per_pipeline, 3), "3"),
        Metric(
            "storm_pages_per_channel",
            most_pages,
            "count",
            per_pipeline,
            round(most_pages / per_pipeline, 3),
            "<= 3 plus resolves",
        ),
        Metric(
            "storm_first_incident_ms",
            round(first_ms, 1),
            "ms",
            round(ceiling_ms, 1),
            round(first_ms / ceiling_ms, 2),
            "",
        ),
        Metric(
            "storm_all_recorded_s",
            round(all_recorded_s, 1),
            "s",
            round(send_seconds, 1),
            round(all_recorded_s / send_seconds, 2),
            "",
        ),
    ]
