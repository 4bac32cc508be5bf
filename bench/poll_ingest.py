"""Poll ingest: one poll of 10,000 runs (the simulator's bulk scenario) through the real SDK, against the ceiling of
the same SDK paging plus a plain bulk insert of the same rows, measured in the same run.

Metric `poll_ingest_10k` (ADF; ratio = poll time / ceiling time, target <= 2.0) and `poll_ingest_10k_databricks`.
Also prints the SQL queries per page at two page sizes, which must not differ.
"""

import statistics
import time

from bench.common import Metric, django_setup

ROUNDS = 3


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _connections(sim, kind: str):
    from monitors.models import Connection, Monitor

    scenario = sim.scenario()
    made = []
    if kind == "adf":
        for factory in scenario["factories"]:
            connection, _ = Connection.objects.update_or_create(
                name=f"bench-{factory['factory_name']}",
                defaults={
                    "kind": "adf",
                    "is_simulator": True,
                    "host": sim.url,
                    "auth_method": "static_token",
                    "subscription_id": factory["subscription_id"],
                    "resource_group": factory["resource_group"],
                    "factory_name": factory["factory_name"],
                },
            )
            made.append(connection)
    else:
        connection, _ = Connection.objects.update_or_create(
            name="bench-databricks",
            defaults={"kind": "databricks", "is_simulator": True, "host": sim.url, "auth_method": "pat"},
        )
        connection.set_secret(scenario["workspaces"][0]["token"])
        connection.save()
        made.append(connection)
    for connection in made:
        Monitor.objects.update_or_create(connection=connection, name="bench", defaults={"enabled": True})
    return made


def _clean(connections) -> None:
    from django_q.models import OrmQ

    from monitors.models import Monitor, Pipeline, PipelineRun

    PipelineRun.objects.filter(connection__in=connections).delete()
    Pipeline.objects.filter(connection__in=connections).delete()
    Monitor.objects.filter(connection__in=connections).update(watermark=None, poll_lease_until=None)
    OrmQ.objects.all().delete()


def _aims_poll(connections) -> tuple[float, int, int]:
    from django.db import connection as db

    from monitors.models import Monitor
    from monitors.services import monitor_poll

    _clean(connections)
    counter, pages = QueryCounter(), 0
    started = time.perf_counter()
    with db.execute_wrapper(counter):
        for monitor in Monitor.objects.filter(connection__in=connections):
            result = monitor_poll(monitor_id=monitor.pk)
            pages += result.pages
    elapsed = time.perf_counter() - started
    return elapsed, counter.count, pages


def _ceiling(connections) -> float:
    """The same SDK paging, then one plain bulk INSERT of the same rows (no upsert, no change detection)."""
    from datetime import UTC, datetime, timedelta

    from monitors.clients import client_for
    from monitors.models import Pipeline, PipelineRun
    from monitors.services import pipeline_run_build

    _clean(connections)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for connection in connections:
        client, token, records = client_for(connection), None, []
        while True:
            page = client.list_runs_page(since=now - timedelta(days=4), until=now + timedelta(days=1), page_token=token)
            records += page.runs
            token = page.next_token
            if not token:
                break
        pipelines = {r.pipeline_external_id: r.pipeline_name for r in records}
        made = Pipeline.objects.bulk_create(
            [Pipeline(connection=connection, external_id=key, name=name) for key, name in pipelines.items()]
        )
        ids = {p.external_id: p.pk for p in made}
        PipelineRun.objects.bulk_create(
            [pipeline_run_build(connection, ids[r.pipeline_external_id], r) for r in records],
            batch_size=1000,
        )
    return time.perf_counter() - started


def _measure(kind: str, scenario_overrides: dict) -> tuple[float, float, float, int]:
    from django.conf import settings

    from monitors.models import PipelineRun
    from simulator.testing import run_simulator

    settings.POLL_INITIAL_LOOKBACK_HOURS = 24 * 4
    with run_simulator("bulk", **scenario_overrides) as sim:
        sim.set_speed(0)
        connections = _connections(sim, kind)
        expected = len(sim.truth(kind))
        _aims_poll(connections)  # warm-up: imports, connection pool, simulator caches
        polls, ceilings, per_page = [], [], []
        for _ in range(ROUNDS):
            elapsed, queries, pages = _aims_poll(connections)
            stored = PipelineRun.objects.filter(connection__in=connections).count()
            if stored != expected:
                raise SystemExit(f"{kind} poll stored {stored} runs, expected {expected}")
            polls.append(elapsed)
            per_page.append(queries / pages)
            ceilings.append(_ceiling(connections))
        _clean(connections)
    print(
        f"{kind}: poll {[round(p, 2) for p in polls]} s, ceiling {[round(c, 2) for c in ceilings]} s, "
        f"{statistics.median(per_page):.1f} queries per page"
    )
    return statistics.median(polls), statistics.median(ceilings), statistics.median(per_page), expected


def run() -> list[Metric]:
    django_setup()
    metrics = []
    for kind, name in (("adf", "poll_ingest_10k"), ("databricks", "poll_ingest_10k_databricks")):
        poll, ceiling, per_page, runs = _measure(kind, {})
        metrics.append(
            Metric(
                metric=name,
                value=round(poll, 3),
                unit="s",
                ceiling=round(ceiling, 3),
                ratio=round(poll / ceiling, 3),
                target="<= 2.0",
            )
        )
        print(f"{kind}: {runs} runs, median poll {poll:.2f} s vs ceiling {ceiling:.2f} s")
    # Queries per page must not grow with the page size (ADF pages are sized by the server).
    small = _measure("adf", {"adf_page_size": 50})[2]
    large = _measure("adf", {"adf_page_size": 200})[2]
    print(f"adf queries per page: {small:.1f} at 50 runs/page, {large:.1f} at 200 runs/page")
    if abs(small - large) > 0.5:
        raise SystemExit("queries per page grow with the page size")
    return metrics
