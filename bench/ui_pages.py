"""UI pages under a realistic amount of data: how long the dashboard (`GET /`) and the incident list
(`GET /incidents/`, default filters) take for a signed-in Viewer, against the same server's no-op page `/livez`.

Data: 100,000 incidents (about 5 % open) and 1,000,000 runs of 200 pipelines on 3 connections over 30 days, a
quarter of them failed, each failed run with its analysis (250,000), each incident with its latest run, analysis
and timeline events. It is written with COPY in one transaction and kept: a later run against the same database
reuses it when the counts match.

Figures: response times measured by the client (request sent to last byte read, keep-alive connection,
sequential requests, pages interleaved in rounds after a warm-up), median and p95 per page. The ceiling is /livez
measured the same way in the same run: it costs Django's ASGI path, daphne and the client's own overhead and
nothing else, so page p95 / no-op p95 is what the page adds on top of an empty request on this machine.
Metrics `incident_list_p95_ms` and `dashboard_p95_ms` compare the page's own p95 with 100 ms.

Also prints the SQL queries each page runs (one request through django.test.Client in this process), the slowest
of them, and their EXPLAIN ANALYZE when a page's p95 is over target, so the owner can see which index is missing.
"""

import hashlib
import http.client
import json
import random
import statistics
import time
from datetime import timedelta

from bench.common import Metric, django_setup, free_port, p95, start_daphne, viewer_session_cookie
from bench.seeding import copy_rows, ids_reserve

RUNS = 1_000_000
FAILED_EVERY = 4  # every 4th run failed: 250,000 failures, each with an analysis
INCIDENTS = 100_000
PIPELINES = 200
DAYS = 30
SEED = 20241101
CONNECTIONS = (("bench-ui-adf-1", "adf"), ("bench-ui-adf-2", "adf"), ("bench-ui-dbx", "databricks"))

PAGES = {"dashboard": "/", "incident_list": "/incidents/"}
NOOP = "/livez"
WARMUP = 20
ROUNDS = 4
PER_ROUND = 50  # requests per page and round: 200 per page in all
TARGET_MS = 100.0
SLOWEST_SHOWN = 5

CATEGORIES = {  # error class: weight
    "transient": 30,
    "resource": 15,
    "configuration": 15,
    "permission": 8,
    "data_quality": 12,
    "code": 14,
    "unknown": 6,
}
SEVERITIES = {"critical": 5, "high": 20, "medium": 40, "low": 30, "info": 5}
OPEN_STATUSES = {"triggered": 6, "acknowledged": 3, "silenced": 1}


# --- Seeding -------------------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict[str, int], count: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=count)


def _bench_connections() -> list:
    from monitors.models import Connection

    made = []
    for name, kind in CONNECTIONS:
        fields = {"kind": kind, "is_simulator": True, "host": "http://127.0.0.1:9"}
        if kind == "adf":
            fields.update(auth_method="static_token", subscription_id="sub", resource_group="rg", factory_name=name)
        else:
            fields.update(auth_method="pat")
        made.append(Connection.objects.update_or_create(name=name, defaults=fields)[0])
    return made


def _counts(connection_ids: list[int]) -> tuple[int, int, int]:
    from incidents.models import FailureAnalysis, Incident
    from monitors.models import PipelineRun

    return (
        PipelineRun.objects.filter(connection_id__in=connection_ids).count(),
        FailureAnalysis.objects.filter(run__connection_id__in=connection_ids).count(),
        Incident.objects.filter(connection_id__in=connection_ids).count(),
    )


def _delete(cursor, connection_ids: list[int]) -> None:
    """Remove an earlier, different seeding (foreign keys are checked at commit, so the order is free)."""
    from incidents.models import FailureAnalysis, Incident, IncidentEvent
    from monitors.models import Pipeline, PipelineRun

    incidents = f"SELECT id FROM {Incident._meta.db_table} WHERE connection_id = ANY(%s)"
    runs = f"SELECT id FROM {PipelineRun._meta.db_table} WHERE connection_id = ANY(%s)"
    cursor.execute(f"DELETE FROM {IncidentEvent._meta.db_table} WHERE incident_id IN ({incidents})", [connection_ids])
    cursor.execute(f"DELETE FROM {Incident._meta.db_table} WHERE connection_id = ANY(%s)", [connection_ids])
    cursor.execute(f"DELETE FROM {FailureAnalysis._meta.db_table} WHERE run_id IN ({runs})", [connection_ids])
    cursor.execute(f"DELETE FROM {PipelineRun._meta.db_table} WHERE connection_id = ANY(%s)", [connection_ids])
    cursor.execute(f"DELETE FROM {Pipeline._meta.db_table} WHERE connection_id = ANY(%s)", [connection_ids])


def _write(cursor, connections: list, rng: random.Random) -> dict[str, int]:
    from django.utils import timezone

    from incidents.models import FailureAnalysis, Incident, IncidentEvent
    from monitors.models import Pipeline, PipelineRun

    now = timezone.now()
    pipelines = Pipeline.objects.bulk_create(
        Pipeline(
            connection=connections[number % len(connections)],
            external_id=f"bench_pipeline_{number:03d}",
            name=f"bench_pipeline_{number:03d}",
            criticality=rng.choice(["critical", "high", "normal", "normal", "normal", "low"]),
        )
        for number in range(PIPELINES)
    )
    pipeline_keys = [(p.pk, p.connection_id, p.name) for p in pipelines]

    # Runs: started uniformly over the last 30 days and ended by now; every 4th failed, a few cancelled. Written
    # oldest first, as they would have arrived, which also keeps the time-ordered indexes appending.
    failures = []  # (run id, pipeline id, connection id, pipeline name, ended_at)
    run_ids = ids_reserve(cursor, PipelineRun, RUNS)
    ages = sorted((rng.random() * DAYS * 86400 for _ in run_ids), reverse=True)

    def runs():
        for number, (run_id, age) in enumerate(zip(run_ids, ages, strict=True)):
            pipeline_id, connection_id, name = pipeline_keys[rng.randrange(PIPELINES)]
            seconds = rng.randint(30, 3600)
            started = now - timedelta(seconds=seconds + age)
            ended = started + timedelta(seconds=seconds)
            if number % FAILED_EVERY == 0:
                status, platform, step, code = "failed", "Failed", "Copy data", "2200"
                message = f"ErrorCode=UserErrorFailedToConnectOdbcSource: {name} source timed out"
                failures.append((run_id, pipeline_id, connection_id, name, ended))
                fetched = ended
            else:
                status, platform = ("cancelled", "Cancelled") if number % 50 == 1 else ("succeeded", "Succeeded")
                step = code = message = ""
                fetched = None
            yield (
                run_id, connection_id, pipeline_id, str(run_id), status, platform, started, ended,
                seconds * 1000, ended, step, code, message, fetched, started, ended,
            )  # fmt: skip

    run_columns = [
        "id", "connection", "pipeline", "external_run_id", "status", "platform_status", "started_at", "ended_at",
        "duration_ms", "platform_updated_at", "failed_step", "error_code", "error_message", "detail_fetched_at",
        "created_at", "updated_at",
    ]  # fmt: skip
    written = {"runs": copy_rows(cursor, PipelineRun, run_columns, runs())}

    # Incidents: 100,000 of the failures, each the latest run of its incident; about 5 % still open, mostly recent.
    incident_ids = ids_reserve(cursor, Incident, INCIDENTS)
    chosen = sorted(rng.sample(range(len(failures)), INCIDENTS))
    incident_of = {failures[index][0]: incident_id for index, incident_id in zip(chosen, incident_ids, strict=True)}
    analysis_ids = ids_reserve(cursor, FailureAnalysis, len(failures))
    analysis_of = {}
    categories = _weighted(rng, CATEGORIES, len(failures))
    severities = _weighted(rng, SEVERITIES, len(failures))
    category_of = {}

    def analyses():
        for (run_id, _, _, name, ended), analysis_id, category, severity in zip(
            failures, analysis_ids, categories, severities, strict=True
        ):
            variant = rng.randrange(5)
            text = f"{category} error {variant} of {name}"
            analysis_of[run_id] = analysis_id
            category_of[run_id] = category
            yield (
                analysis_id, run_id, hashlib.sha256(text.encode()).hexdigest(), text, category, severity,
                category in ("transient", "resource"), rng.randint(40, 99), f"{name}: {text}", "offline",
                incident_of.get(run_id), ended, ended,
            )  # fmt: skip

    analysis_columns = [
        "id", "run", "signature", "signature_text", "category", "severity", "should_retry", "confidence", "summary",
        "analyzer", "incident", "created_at", "updated_at",
    ]  # fmt: skip
    written["analyses"] = copy_rows(cursor, FailureAnalysis, analysis_columns, analyses())

    events = []  # (incident id, kind, params as JSON, at)

    def incidents():
        for index, incident_id in zip(chosen, incident_ids, strict=True):
            run_id, pipeline_id, connection_id, name, last_seen = failures[index]
            first_seen = last_seen - timedelta(seconds=rng.random() * 3 * 86400)
            recent = now - last_seen < timedelta(days=2)
            is_open = rng.random() < (0.5 if recent else 0.02)
            status = _weighted(rng, OPEN_STATUSES, 1)[0] if is_open else "resolved"
            acknowledged = resolved = silenced_until = None
            if status == "acknowledged" or (status == "resolved" and rng.random() < 0.6):
                acknowledged = min(first_seen + timedelta(minutes=rng.randint(1, 120)), now)
            if status == "resolved":
                resolved = min(last_seen + timedelta(minutes=rng.randint(5, 2 * 24 * 60)), now)
            if status == "silenced":
                silenced_until = now + timedelta(hours=rng.randint(1, 24))
            opened = {"subject_label": f"run {run_id}", "category": category_of[run_id]}
            events.append((incident_id, "opened", json.dumps(opened), first_seen))
            if acknowledged:
                events.append((incident_id, "acknowledged", "{}", acknowledged))
            if resolved:
                kind = "auto_resolved" if rng.random() < 0.3 else "resolved"
                events.append((incident_id, kind, "{}", resolved))
            yield (
                incident_id, f"{incident_id:064x}", f"{name} / Copy data: source timed out", status,
                _weighted(rng, SEVERITIES, 1)[0], category_of[run_id], connection_id, pipeline_id, run_id,
                analysis_of[run_id], first_seen, last_seen, first_seen, rng.randint(1, 20), acknowledged, resolved,
                silenced_until, first_seen, resolved or last_seen,
            )  # fmt: skip

    incident_columns = [
        "id", "fingerprint", "title", "status", "severity", "category", "connection", "pipeline", "latest_run",
        "analysis", "first_seen_at", "last_seen_at", "opened_at", "occurrence_count", "acknowledged_at",
        "resolved_at", "silenced_until", "created_at", "updated_at",
    ]  # fmt: skip
    written["incidents"] = copy_rows(cursor, Incident, incident_columns, incidents())
    written["events"] = copy_rows(
        cursor,
        IncidentEvent,
        ["incident", "kind", "params", "created_at", "updated_at"],
        ((incident_id, kind, params, at, at) for incident_id, kind, params, at in events),
    )
    return written


def seed() -> None:
    """Write the data set unless this database already holds it (same counts on the bench connections)."""
    from django.db import connection, transaction

    from incidents.models import FailureAnalysis, Incident, IncidentEvent
    from monitors.models import Pipeline, PipelineRun

    connections = _bench_connections()
    ids = [c.pk for c in connections]
    wanted = (RUNS, RUNS // FAILED_EVERY, INCIDENTS)
    found = _counts(ids)
    if found == wanted:
        print(f"reusing the seeded data: {RUNS:,} runs, {wanted[1]:,} analyses, {INCIDENTS:,} incidents")
        return
    started = time.perf_counter()
    if any(found):
        print(f"replacing an earlier seeding ({found[0]:,} runs, {found[1]:,} analyses, {found[2]:,} incidents)")
        with transaction.atomic(), connection.cursor() as cursor:
            _delete(cursor, ids)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        if cursor.fetchone()[0]:
            # The new rows are consistent by construction: skip the per-row foreign key triggers, which would
            # otherwise queue 1.6 million checks for the commit (this halves the seeding time).
            cursor.execute("SET LOCAL session_replication_role = replica")
        written = _write(cursor, connections, random.Random(SEED))
    copied = time.perf_counter() - started
    with connection.cursor() as cursor:
        for model in (Pipeline, PipelineRun, FailureAnalysis, Incident, IncidentEvent):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    elapsed = time.perf_counter() - started
    print(
        f"seeded {written['runs']:,} runs, {written['analyses']:,} analyses, {written['incidents']:,} incidents, "
        f"{written['events']:,} events in {elapsed:.1f} s (COPY and commit {copied:.1f} s, ANALYZE "
        f"{elapsed - copied:.1f} s)"
    )


# --- Measuring -----------------------------------------------------------------------------------------------------


def _get_ms(connection: http.client.HTTPConnection, path: str, cookie: str) -> float:
    """One GET on a kept-alive connection: milliseconds from sending to the last byte; exits on anything but 200."""
    started = time.perf_counter()
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200:
        raise SystemExit(f"GET {path} answered {response.status} (expected 200): {body[:300]!r}")
    return elapsed


def _measure(port: int, cookie: str) -> dict[str, list[float]]:
    """Response times per path: a warm-up, then rounds in which every path gets PER_ROUND sequential requests, so
    drift over the run touches pages and no-op alike."""
    paths = [NOOP, *PAGES.values()]
    samples: dict[str, list[float]] = {path: [] for path in paths}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for path in paths:
            for _ in range(WARMUP):
                _get_ms(connection, path, cookie)
        for _ in range(ROUNDS):
            for path in paths:
                samples[path] += [_get_ms(connection, path, cookie) for _ in range(PER_ROUND)]
    finally:
        connection.close()
    return samples


def _page_queries(path: str) -> tuple[list[dict], float]:
    """The SQL one request of the page runs, and that request's milliseconds, through the test client in this
    process (as the same Viewer; no ASGI server in between)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username="bench-viewer"))
    client.get(path)  # warm: first-use costs (templates, permissions) out of the picture
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {path} through the test client answered {response.status_code} (expected 200)")
    return captured.captured_queries, elapsed


def _explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return [row[0] for row in cursor.fetchall()]


def _report_queries(name: str, queries: list[dict], request_ms: float, *, explain: bool) -> None:
    slowest = sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:SLOWEST_SHOWN]
    total = sum(float(q["time"]) for q in queries) * 1000
    print(
        f"{name}: {len(queries)} SQL queries; one request through the test client took {request_ms:.0f} ms, "
        f"{total:.0f} ms of it waiting on SQL; slowest:"
    )
    for query in slowest:
        print(f"  {float(query['time']) * 1000:8.1f} ms  {query['sql'][:160]}")
        if explain and query["sql"].lstrip().upper().startswith("SELECT"):
            for line in _explain(query["sql"]):
                print(f"      | {line}")


def run() -> list[Metric]:
    django_setup()
    seed()
    cookie = viewer_session_cookie()
    queries = {name: _page_queries(path) for name, path in PAGES.items()}

    port = free_port()
    server = start_daphne(port)
    try:
        samples = _measure(port, cookie)
    finally:
        server.terminate()
        server.wait(timeout=30)

    noop_median, noop_p95 = statistics.median(samples[NOOP]), p95(samples[NOOP])
    print(f"client-measured response times, {ROUNDS * PER_ROUND} sequential requests per path after {WARMUP} warm-up:")
    print(f"  {NOOP:<12} median {noop_median:7.1f} ms   p95 {noop_p95:7.1f} ms   (ceiling: the no-op page)")
    metrics = []
    for name, path in PAGES.items():
        median, page_p95 = statistics.median(samples[path]), p95(samples[path])
        print(f"  {path:<12} median {median:7.1f} ms   p95 {page_p95:7.1f} ms   ({page_p95 / noop_p95:.1f} x no-op)")
        metrics.append(
            Metric(
                metric=f"{name}_p95_ms",
                value=round(page_p95, 1),
                unit="ms",
                ceiling=round(noop_p95, 1),
                ratio=round(page_p95 / noop_p95, 2),
                target=f"<= {TARGET_MS:.0f}",
            )
        )
    for metric, (name, path) in zip(metrics, PAGES.items(), strict=True):
        over = metric.value > TARGET_MS
        _report_queries(f"{path} ({name})", *queries[name], explain=over)
        if over:
            print(f"  {path}: p95 {metric.value} ms is over the {TARGET_MS:.0f} ms target (EXPLAIN ANALYZE above)")
    return metrics
