"""Upgrading a database from before the layered redesign: retry policies and attempts move to `remediation`,
maintenance windows to `monitors`, counted runs become occurrences and timeline sentences become data — with every
row kept."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [
    ("aimsweb", "0004_role_groups_notifications"),
    ("monitors", "0010_webhook_source_adf_callback"),
    ("incidents", "0008_strip_terminal_escapes"),
    ("contracts", "0001_initial"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def _old_world(apps) -> dict:
    """Rows as the version before the redesign wrote them (its own models, through the historical state)."""
    now = timezone.now()
    conn = apps.get_model("monitors", "Connection").objects.create(name="adf-prod", kind="adf", factory_name="f")
    pipeline = apps.get_model("monitors", "Pipeline").objects.create(connection=conn, name="pl_sales", external_id="p")
    run = apps.get_model("monitors", "PipelineRun").objects.create(
        connection=conn,
        pipeline=pipeline,
        external_run_id="run-1",
        status="failed",
        started_at=now - timedelta(minutes=5),
        error_message="Operation timed out",
    )
    policy = apps.get_model("monitors", "RetryPolicy").objects.create(name="Transient", connection=conn)
    attempt = apps.get_model("monitors", "RetryAttempt").objects.create(
        run=run, policy=policy, attempt_number=1, idempotency_key="k-1", mode="recover", scheduled_for=now
    )
    window = apps.get_model("incidents", "MaintenanceWindow").objects.create(
        name="upgrade", connection=conn, starts_at=now, ends_at=now + timedelta(hours=1)
    )
    incident = apps.get_model("incidents", "Incident").objects.create(
        fingerprint="f" * 64,
        title="pl_sales: Operation timed out",
        severity="high",
        category="transient",
        connection=conn,
        pipeline=pipeline,
        latest_run=run,
        first_seen_at=now,
        last_seen_at=now,
        opened_at=now,
    )
    apps.get_model("incidents", "FailureAnalysis").objects.create(
        run=run,
        signature="s" * 64,
        category="transient",
        severity="high",
        should_retry=True,
        confidence=90,
        summary="The source timed out.",
        analyzer="offline",
        incident=incident,
    )
    event = apps.get_model("incidents", "IncidentEvent")
    event.objects.create(
        incident=incident, kind="opened", message="Opened by run run-1: transient error.", details={"run_id": run.pk}
    )
    event.objects.create(incident=incident, kind="commented", message="looking at the gateway")
    return {"run": run.pk, "policy": policy.pk, "attempt": attempt.pk, "window": window.pk, "incident": incident.pk}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_upgrade_from_before_layers_keeps_every_row_and_converts_it():
    ids = _old_world(_migrate(BEFORE))

    apps = _migrate(None)

    policy = apps.get_model("remediation", "RetryPolicy").objects.get(pk=ids["policy"])
    attempt = apps.get_model("remediation", "RetryAttempt").objects.get(pk=ids["attempt"])
    assert policy.name == "Transient" and (attempt.policy_id, attempt.run_id) == (policy.pk, ids["run"])
    assert apps.get_model("monitors", "MaintenanceWindow").objects.get(pk=ids["window"]).name == "upgrade"
    occurrence = apps.get_model("incidents", "Occurrence").objects.get(run_id=ids["run"])
    incident = apps.get_model("incidents", "Incident").objects.get(pk=ids["incident"])
    assert occurrence.incident_id == incident.pk and incident.latest_occurrence_id == occurrence.pk
    assert occurrence.evidence["external_run_id"] == "run-1" and occurrence.source == "pipeline_run"
    events = apps.get_model("incidents", "IncidentEvent").objects.filter(incident=incident).order_by("pk")
    opened, comment = events
    assert (opened.note, opened.params) == (
        "",
        {"run_id": ids["run"], "subject_label": "run run-1", "category": "transient"},
    )
    assert (comment.note, comment.params) == ("looking at the gateway", {})
    # The permissions that moved with the models are the ones the roles hold.
    group = apps.get_model("auth", "Group").objects.get(name="Admin")
    codenames = set(group.permissions.values_list("content_type__app_label", "codename"))
    assert ("remediation", "change_retrypolicy") in codenames and ("monitors", "change_maintenancewindow") in codenames
