"""Webhook ingest: requests/s of the Databricks failure webhook at concurrency 16, against the same server's no-op
JSON endpoint (/livez) measured in the same run. Metric `webhook_ingest_rps`, ratio = webhook / no-op (target >= 0.5).

Each request is authenticated, stored as a WebhookDelivery and queued for processing (the task queue is not
consumed during the run, so only ingest is measured).
"""

import json
import statistics

from bench.common import Metric, django_setup, free_port, load, start_daphne

CONCURRENCY = 16
SECONDS = 8
ROUNDS = 3
SECRET = "bench-webhook-secret-0123456789"


def run() -> list[Metric]:
    django_setup()
    from monitors.models import Connection, WebhookDelivery

    connection, _ = Connection.objects.update_or_create(
        name="bench-dbx",
        defaults={"kind": "databricks", "is_simulator": True, "host": "http://127.0.0.1:9", "auth_method": "pat"},
    )
    connection.set_webhook_secret(SECRET)
    connection.save()
    WebhookDelivery.objects.filter(connection=connection).delete()

    body = json.dumps(
        {
            "event_type": "jobs.on_failure",
            "workspace_id": "1",
            "run": {"run_id": "912345678901234"},
            "job": {"job_id": "1"},
        }
    ).encode()
    hook = {"method": "POST", "path": "/hooks/databricks/bench-dbx/", "body": body}
    hook["headers"] = {"Content-Type": "application/json", "X-AIMS-Token": SECRET}
    noop = {"method": "GET", "path": "/livez"}

    port = free_port()
    server = start_daphne(port)
    try:
        load(port, **noop, concurrency=CONCURRENCY, seconds=2)  # warm-up: imports, pool, caches
        load(port, **hook, concurrency=CONCURRENCY, seconds=2)
        noop_rps, hook_rps, bad = [], [], 0
        for _ in range(ROUNDS):
            base = load(port, **noop, concurrency=CONCURRENCY, seconds=SECONDS)
            measured = load(port, **hook, concurrency=CONCURRENCY, seconds=SECONDS)
            noop_rps.append(base.rps)
            hook_rps.append(measured.rps)
            bad += sum(count for status, count in measured.statuses.items() if status != 202)
    finally:
        server.terminate()
        server.wait(timeout=30)
    stored = WebhookDelivery.objects.filter(connection=connection).count()
    # Nobody processes them here, and a later benchmark's workers must not find thousands waiting.
    WebhookDelivery.objects.filter(connection=connection).delete()
    hook_median, noop_median = statistics.median(hook_rps), statistics.median(noop_rps)
    print(f"webhook rps per round {[round(r) for r in hook_rps]}, no-op rps per round {[round(r) for r in noop_rps]}")
    print(f"deliveries stored {stored}; answers other than 202: {bad}")
    if bad:
        raise SystemExit(f"webhook benchmark saw {bad} answers other than 202")
    return [
        Metric(
            metric="webhook_ingest_rps",
            value=round(hook_median, 1),
            unit="req/s",
            ceiling=round(noop_median, 1),
            ratio=round(hook_median / noop_median, 3),
            target=">= 0.5",
        )
    ]
