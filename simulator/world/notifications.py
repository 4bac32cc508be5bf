"""Failure notifications the world sends: Azure Monitor alerts and ADF callbacks for failed pipeline runs,
Databricks job-failure webhooks; queued in the outbox, delivered by the app's pump, and the delivery log."""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Any

from simulator import adf_errors
from simulator import notify as notify_mod
from simulator.adf_callback import (
    CALLBACK_DEFAULTS,
    callback_body,
    callback_headers,
    callback_settings_check,
    callback_shape,
)
from simulator.alert_shapes import alert_shapes_check, azure_monitor_alert
from simulator.model import AdfRun, DbxRun
from simulator.world.build import guid

if TYPE_CHECKING:
    from simulator.world.state import World


def set_notify(world: World, config: dict[str, Any]) -> dict[str, Any]:
    """Merge `config` into the notification settings (targets, secret, alert shapes, callbacks); checked first."""
    merged: dict[str, Any] = {
        "databricks_url": None,
        "azure_monitor_url": None,
        "secret": None,
        "allow_remote": False,
        "databricks_auth": "basic",
        "alert_shapes": ["pipeline_metric"],
        **CALLBACK_DEFAULTS,
    }
    merged.update(world.notify_config)
    merged.update({k: v for k, v in config.items() if k in merged})
    for key in ("databricks_url", "azure_monitor_url", "adf_callback_url"):
        notify_mod.check_notify_url(merged[key], bool(merged["allow_remote"]))
    callback_settings_check(merged)
    if merged["databricks_auth"] not in notify_mod.DATABRICKS_AUTH:
        raise ValueError(f"notify.databricks_auth must be one of {list(notify_mod.DATABRICKS_AUTH)}")
    merged["alert_shapes"] = alert_shapes_check(merged["alert_shapes"])
    with world.lock:
        world.notify_config = merged
    return dict(merged)


def _headers(world: World) -> dict[str, str]:
    secret = world.notify_config.get("secret")
    return {"X-AIMS-Token": secret} if secret else {}


def notify_adf_failure(world: World, run: AdfRun, now: int) -> bool:
    called_back = _adf_callback(world, run)
    url = world.notify_config.get("azure_monitor_url")
    if not url or run.failure is None:
        return called_back
    factory = run.pipeline.factory
    # One alert action per factory, as in Azure: "{factory}" in the URL becomes the factory's name.
    url = url.replace("{factory}", factory.name)
    failed_activity = next((a.name for a in run.activities if a.outcome == "Failed"), run.pipeline.name)
    # One alert per configured shape: the rules of one action group (simulator.alert_shapes).
    for shape in world.notify_config["alert_shapes"]:
        payload = azure_monitor_alert(
            shape,
            subscription_id=factory.subscription_id,
            resource_group=factory.resource_group,
            factory_name=factory.name,
            pipeline_name=run.pipeline.name,
            activity_name=failed_activity,
            failure_type=adf_errors.failure_type(run.failure.row),
            failed_at_us=run.end_us,
            fired_at_us=now,
            alert_guid=guid(world.notify_rng),
        )
        world.outbox.append(notify_mod.Outgoing("azure_monitor", url, payload, _headers(world), run.run_id))
    return True


def _adf_callback(world: World, run: AdfRun) -> bool:
    """The failure path's Web activity posting to AIMS (simulator.adf_callback), when the settings ask for it."""
    config = world.notify_config
    if not (config["adf_callback"] and config["adf_callback_url"]) or run.failure is None:
        return False
    url = config["adf_callback_url"].replace("{factory}", run.pipeline.factory.name)
    payload = callback_body(run, callback_shape(config, world.notify_rng))
    headers = callback_headers(config.get("secret"), config["adf_callback_auth"])
    world.outbox.append(notify_mod.Outgoing("adf_callback", url, payload, headers, run.run_id))
    return True


def notify_dbx_failure(world: World, run: DbxRun) -> bool:
    url = world.notify_config.get("databricks_url")
    if not url:
        return False
    job = run.job
    url = url.replace("{workspace_id}", str(job.workspace.workspace_id))
    payload = notify_mod.databricks_job_failure(job.workspace.workspace_id, run.run_id, job.job_id, job.name)
    url, headers = notify_mod.databricks_destination(
        url, world.notify_config.get("secret"), world.notify_config.get("databricks_auth", "basic")
    )
    world.outbox.append(notify_mod.Outgoing("databricks", url, payload, headers, str(run.run_id)))
    return True


# Backoff (real seconds, the sim clock may be frozen) before the 2nd, 3rd, ... attempt of a retried delivery.
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0)


def take_outbox(world: World) -> list[notify_mod.Outgoing]:
    """The queued deliveries that are due; retries waiting for their backoff stay queued."""
    now = time.monotonic()
    with world.lock:
        items = [item for item in world.outbox if item.due <= now]
        world.outbox = [item for item in world.outbox if item.due > now]
        world.notify_counts["queued"] += len(items)
        return items


def _retry(world: World, item: notify_mod.Outgoing) -> None:
    delay = RETRY_DELAYS[min(item.attempt - 1, len(RETRY_DELAYS) - 1)]
    headers = dict(item.headers)
    if item.retry_header:
        headers[item.retry_header] = str(item.attempt)
    world.outbox.append(
        dataclasses.replace(item, attempt=item.attempt + 1, due=time.monotonic() + delay, headers=headers)
    )


def record_delivery(world: World, item: notify_mod.Outgoing, status: int | None, error: str | None) -> None:
    with world.lock:
        ok = status is not None and 200 <= status < 300
        world.notify_counts["sent" if ok else "failed"] += 1
        # The query is left out: it may carry the secret (?token=).
        entry: dict[str, Any] = {
            "kind": item.kind,
            "url": item.url.split("?", 1)[0],
            "run_id": item.run_id,
            "status": status,
            "error": error,
            "ok": ok,
        }
        if item.delivery_id:
            entry.update(delivery_id=item.delivery_id, attempt=item.attempt)
        world.notifications.append(entry)
        if not ok and item.attempt < item.max_attempts:
            _retry(world, item)
