"""Built-in scenarios and scenario loading/normalisation.

A scenario is a JSON-able dict; `normalize_scenario` fills every default so the rest of the simulator can
index keys without guarding, and rejects obviously broken input early with a ValueError.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from simulator.adf_callback import CALLBACK_DEFAULTS
from simulator.alert_shapes import ALERT_SHAPES
from simulator.scenario_demo import demo_scenario
from simulator.scenario_triggers import LEGACY_TRIGGERS
from simulator.scenario_warehouse import (
    normalize_loads,
    normalize_problems,
    normalize_sql_warehouses,
)
from simulator.storm_causes import normalize_storms

FAULT_KINDS = ("429", "500", "503", "slow", "truncated", "malformed")
# "Processed but the answer lost": the call runs (a write is applied), then the client gets a 500 (`lost`) or the
# connection drops after the status line (`dropped`). Allowed, not drawn by default, so default draws stay the same.
LOSS_KINDS = ("lost", "dropped")

DEFAULT_SUBSCRIPTION = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"

TOP_DEFAULTS: dict[str, Any] = {
    "seed": 7,
    "speed": 10.0,
    "clock_start": None,
    "adf_page_size": 100,
    "history": {"adf_runs": 0, "databricks_runs": 0, "span_seconds": 86400, "active_share": 0.02},
    "rerun_success_rate": {"transient": 0.85, "resource": 0.6, "other": 0.05},
    "databricks_failure_variants": {"trace_only": 0.2, "cluster": 0.1},
    # The demo tables every workspace's SQL warehouses hold (simulator.sql_demo), loaded on the first SQL call.
    "warehouse_tables": ["main.sales.customers", "main.sales.orders", "main.finance.invoices"],
    # Statement results are cut into chunks of this many rows; a statement runs this long (real seconds).
    "sql_chunk_rows": 500,
    "sql_delay_seconds": 0.2,
    # Which pipeline or job loads which demo table (simulator.world.loads): a successful run appends its rows.
    "warehouse_loads": [],
    # Problems injected into loads, one at a time on a seeded schedule (simulator.sql_loads).
    "warehouse_problems": {"first_after_seconds": [300, 600], "gap_seconds": [900, 1800], "problems": []},
    # Failure probability of a Databricks run-now; None = the job's own failure_rate.
    "run_now_failure_rate": None,
    # Storms (simulator.storm_causes): one cause failing many pipelines or jobs at once, after so many sim seconds.
    "storms": [],
    "faults": {
        "rate": 0.0,
        "kinds": list(FAULT_KINDS),
        "retry_after": 1,
        "slow_seconds": 5,
        "seed": 1,
        "apply_to_llm": False,
        "sources": ["adf", "databricks", "jira", "servicenow"],
        # Share of Jira webhooks and ServiceNow callbacks delivered twice (same webhook identifier), seeded.
        "duplicate_rate": 0.0,
        # The next n incident changes by the ServiceNow API user call back anyway (a business rule's condition slips).
        "servicenow_api_callbacks": 0,
        # Stop after this many injected faults (None: never), e.g. "the next 3 calls are throttled".
        "count": None,
    },
    "notify": {
        "databricks_url": None,
        "azure_monitor_url": None,
        "secret": None,
        "allow_remote": False,
        # How Databricks notifications carry the secret: Basic auth password, or ?token= on the URL.
        "databricks_auth": "basic",
        # The Azure Monitor alerts each ADF failure sends, one per shape (simulator.alert_shapes.ALERT_SHAPES).
        "alert_shapes": ["pipeline_metric"],
        # The failure callback each ADF failure's Web activity posts (simulator.adf_callback).
        **CALLBACK_DEFAULTS,
    },
}

SCHEDULE_DEFAULTS: dict[str, Any] = {
    "interval_seconds": 300,
    "duration_seconds": [30, 240],
    "failure_rate": 0.25,
    "cancel_rate": 0.02,
    "queue_seconds": [0, 5],
    "corpus_ids": None,
    # The schedule as the platform shows it: paused (ADF trigger Stopped, Databricks PAUSED: no scheduled runs), its
    # time zone (Windows name for ADF, IANA for Databricks) and, for ADF, the trigger type starting the runs.
    "paused": False,
    "timezone": "UTC",
    "trigger": "schedule",
}
TRIGGER_KINDS = ("schedule", "tumbling_window")


def _pipeline(name: str, activities: list[str], **kw: Any) -> dict[str, Any]:
    return {"name": name, "activities": activities, **kw}


def _job(name: str, tasks: list[str], **kw: Any) -> dict[str, Any]:
    return {"name": name, "tasks": tasks, **kw}


DEFAULT_SCENARIO: dict[str, Any] = {
    "name": "default",
    "seed": 7,
    "speed": 10.0,
    "clock_start": None,
    "factories": [
        {
            "subscription_id": DEFAULT_SUBSCRIPTION,
            "resource_group": "rg-sim",
            "factory_name": "adf-sim",
            "pipelines": [
                _pipeline("pl_daily_orders", ["Copy orders", "Run transform notebook", "Publish"], failure_rate=0.3),
                _pipeline(
                    "pl_customers_sync",
                    ["Lookup watermark", "Copy customers", "Merge customers"],
                    timezone="W. Europe Standard Time",
                ),
                _pipeline("pl_inventory_snapshot", ["Copy inventory", "Run aggregate notebook"], interval_seconds=600),
                _pipeline("pl_finance_export", ["Run export notebook", "Copy to SFTP", "Notify finance"]),
            ],
            "extra_triggers": LEGACY_TRIGGERS,
        },
        {
            "subscription_id": DEFAULT_SUBSCRIPTION,
            "resource_group": "rg-sim-analytics",
            "factory_name": "adf-sim-analytics",
            "pipelines": [
                _pipeline(
                    "pl_clickstream_ingest", ["Copy clickstream", "Run sessionize notebook"], interval_seconds=180
                ),
                _pipeline("pl_marketing_attribution", ["Lookup campaigns", "Run attribution notebook", "Publish"]),
                _pipeline("pl_ml_features", ["Copy events", "Run feature notebook", "Publish features"]),
                _pipeline(
                    "pl_gdpr_purge",
                    ["Lookup requests", "Run purge notebook"],
                    interval_seconds=900,
                    trigger="tumbling_window",
                ),
            ],
        },
    ],
    "workspaces": [
        {
            "token": "dapi-sim-ws1",
            "workspace_id": 1234567890123456,
            "jobs": [
                _job("orders_daily", ["ingest_orders", "transform_orders", "publish"], failure_rate=0.3),
                _job("customer_360", ["ingest_crm", "dedupe_customers", "build_profiles"]),
                _job(
                    "clickstream_sessions",
                    ["ingest_events", "sessionize"],
                    interval_seconds=180,
                    timezone="Europe/Amsterdam",
                ),
                _job("ml_training", ["prepare_features", "train_model", "register_model"], interval_seconds=900),
                # Paused (and so left out of the history): its schedule is shown, nothing runs.
                _job("legacy_reconcile", ["reconcile_ledgers"], interval_seconds=86400, paused=True),
            ],
        }
    ],
    "history": {"adf_runs": 60, "databricks_runs": 40, "span_seconds": 6 * 3600},
    # About four minutes into the demo (at its speed) the analytics factory's integration runtime goes offline:
    # its four pipelines fail with the same error at once, which AIMS counts as one incident.
    "storms": [{"cause": "shir_offline", "factory": "adf-sim-analytics", "after_seconds": 2400}],
    "rerun_success_rate": {"transient": 0.85, "resource": 0.6, "other": 0.05},
    "faults": {"rate": 0.0},
    "notify": {"databricks_url": None, "azure_monitor_url": None, "secret": None},
    "warehouse_loads": [
        {"table": "main.sales.orders", "adf": "pl_daily_orders", "factory": "adf-sim", "rows": [40, 120]},
        {"table": "main.sales.customers", "databricks": "customer_360", "rows": [2, 12]},
        {"table": "main.finance.invoices", "adf": "pl_finance_export", "factory": "adf-sim", "rows": [20, 60]},
    ],
    "warehouse_problems": {
        "first_after_seconds": [300, 600],
        "gap_seconds": [900, 1800],
        "problems": [
            {"kind": "null_surge", "table": "main.sales.orders", "column": "customer_id", "share": 0.6},
            {"kind": "duplicate_keys", "table": "main.sales.orders", "share": 0.3, "loads": [2, 3]},
            {"kind": "out_of_range", "table": "main.finance.invoices", "column": "amount", "share": 0.15},
            {"kind": "dropped_column", "table": "main.sales.customers", "column": "segment", "loads": [3, 4]},
            # Long enough for a freshness SLA of a few (real) minutes to lapse at the demo's speed.
            {"kind": "stale", "table": "main.finance.invoices", "loads": [10, 14]},
        ],
    },
}


def _bulk() -> dict[str, Any]:
    scenario = copy.deepcopy(DEFAULT_SCENARIO)
    scenario.update(
        name="bulk",
        seed=20240601,
        speed=1.0,
        history={"adf_runs": 10_000, "databricks_runs": 10_000, "span_seconds": 3 * 86400, "active_share": 0.02},
    )
    # Bulk is a paging/volume fixture: only history, no schedule-generated runs (nor storms).
    scenario["storms"] = []
    for factory in scenario["factories"]:
        for pipeline in factory["pipelines"]:
            pipeline.update(interval_seconds=0, failure_rate=0.3, cancel_rate=0.03)
    for workspace in scenario["workspaces"]:
        for job in workspace["jobs"]:
            job.update(interval_seconds=0, failure_rate=0.3, cancel_rate=0.03)
    return scenario


def _quiet() -> dict[str, Any]:
    """Frozen clock, no history, no schedule: tests create exactly the runs they need."""
    scenario = copy.deepcopy(DEFAULT_SCENARIO)
    scenario.update(name="quiet", speed=0.0, history={"adf_runs": 0, "databricks_runs": 0}, storms=[])
    # A successful run of a loader still loads its table, but never with a problem.
    scenario["warehouse_problems"] = {**scenario["warehouse_problems"], "problems": []}
    for factory in scenario["factories"]:
        for pipeline in factory["pipelines"]:
            pipeline["interval_seconds"] = 0
    for workspace in scenario["workspaces"]:
        for job in workspace["jobs"]:
            job["interval_seconds"] = 0
    return scenario


WIDE_JOB_TASKS = 130


def _wide() -> dict[str, Any]:
    """A job fanning out over 130 tasks, which Jobs API 2.2 pages by 100: most of its runs fail, about a quarter of
    them in a task past the first page of runs/get (and runs/list marks every run has_more). Frozen clock, no ADF."""
    return {
        "name": "wide",
        "seed": 14,
        "speed": 0.0,
        "factories": [],
        "workspaces": [
            {
                "token": "dapi-sim-ws1",
                "workspace_id": 1234567890123456,
                "jobs": [
                    _job(
                        "warehouse_fanout",
                        [f"load_table_{index:03d}" for index in range(WIDE_JOB_TASKS)],
                        interval_seconds=0,
                        failure_rate=0.9,
                        cancel_rate=0.0,
                        duration_seconds=[600, 1800],
                    ),
                    _job("orders_daily", ["ingest_orders", "transform_orders", "publish"], interval_seconds=0),
                ],
            }
        ],
        "history": {"adf_runs": 0, "databricks_runs": 24, "span_seconds": 6 * 3600, "active_share": 0.0},
    }


def _alerts() -> dict[str, Any]:
    """Quiet, and every ADF failure alerts through one action group in every documented shape: PipelineFailedRuns
    and ActivityFailedRuns metric alerts, Simple Log, Log Analytics (v1) and v2 log search alerts, and alerts about
    the integration runtime's VM and another factory that share the action group."""
    scenario = _quiet()
    scenario.update(name="alerts")
    scenario["notify"] = {**scenario["notify"], "alert_shapes": list(ALERT_SHAPES)}
    return scenario


def _adf_callbacks() -> dict[str, Any]:
    """Quiet, and every ADF failure's pipeline posts its own failure callback, in a shape drawn by seed (camelCase,
    UPPER_SNAKE, the tutorial's body without a run id, a run id left unresolved) to notify.adf_callback_url."""
    scenario = _quiet()
    scenario.update(name="adf_callbacks")
    scenario["notify"] = {**scenario["notify"], "adf_callback": True}
    return scenario


BUILTIN_SCENARIOS: dict[str, dict[str, Any]] = {
    "default": DEFAULT_SCENARIO,
    "demo": demo_scenario(DEFAULT_SCENARIO),
    "alerts": _alerts(),
    "adf_callbacks": _adf_callbacks(),
    "bulk": _bulk(),
    "quiet": _quiet(),
    "wide": _wide(),
}


def load_scenario(spec: dict[str, Any] | str | Path | None = "default") -> dict[str, Any]:
    """Resolve a scenario given as a dict, a built-in name, or a path to a .json file; returns a normalised copy."""
    if spec is None:
        spec = "default"
    if isinstance(spec, dict):
        if set(spec) == {"name"}:
            return load_scenario(spec["name"])
        raw = copy.deepcopy(spec)
    elif isinstance(spec, Path) or str(spec).endswith(".json"):
        raw = json.loads(Path(spec).read_text(encoding="utf-8"))
        raw.setdefault("name", Path(spec).stem)
    elif spec in BUILTIN_SCENARIOS:
        raw = copy.deepcopy(BUILTIN_SCENARIOS[spec])
    else:
        raise ValueError(f"unknown scenario {spec!r}; built-ins: {sorted(BUILTIN_SCENARIOS)}")
    return normalize_scenario(raw)


def _merge(defaults: dict[str, Any], given: dict[str, Any] | None) -> dict[str, Any]:
    out = copy.deepcopy(defaults)
    for key, value in (given or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def normalize_faults(faults: dict[str, Any] | None) -> dict[str, Any]:
    out = _merge(TOP_DEFAULTS["faults"], faults)
    unknown = [k for k in out["kinds"] if k not in FAULT_KINDS + LOSS_KINDS]
    if unknown:
        raise ValueError(f"unknown fault kinds {unknown}; allowed: {list(FAULT_KINDS + LOSS_KINDS)}")
    for key in ("rate", "duplicate_rate"):
        if not 0.0 <= float(out[key]) <= 1.0:
            raise ValueError(f"faults.{key} must be within 0..1")
        out[key] = float(out[key])
    callbacks = out["servicenow_api_callbacks"]
    if not isinstance(callbacks, int) or callbacks < 0:
        raise ValueError("faults.servicenow_api_callbacks must be a whole number >= 0")
    if out["count"] is not None and (not isinstance(out["count"], int) or out["count"] < 0):
        raise ValueError("faults.count must be null or a whole number >= 0")
    return out


def _normalize_schedule(item: dict[str, Any], steps_key: str, what: str) -> dict[str, Any]:
    out = _merge(SCHEDULE_DEFAULTS, item)
    if not out.get("name"):
        raise ValueError(f"every {what} needs a name")
    steps = out.get(steps_key) or []
    if not steps:
        raise ValueError(f"{what} {out['name']!r} needs at least one entry in {steps_key!r}")
    lo, hi = out["duration_seconds"]
    if lo <= 0 or hi < lo:
        raise ValueError(f"{what} {out['name']!r}: duration_seconds must be [min, max] with 0 < min <= max")
    out["interval_seconds"] = float(out["interval_seconds"] or 0)
    if out["trigger"] not in TRIGGER_KINDS:
        raise ValueError(f"{what} {out['name']!r}: trigger must be one of {list(TRIGGER_KINDS)}")
    out["paused"] = bool(out["paused"])
    return out


def normalize_scenario(raw: dict[str, Any]) -> dict[str, Any]:
    scenario = _merge(TOP_DEFAULTS, raw)
    scenario.setdefault("name", "custom")
    scenario["faults"] = normalize_faults(raw.get("faults"))
    scenario["speed"] = float(scenario["speed"])
    if scenario["speed"] < 0:
        raise ValueError("speed must be >= 0")
    if scenario["run_now_failure_rate"] is not None:
        scenario["run_now_failure_rate"] = float(scenario["run_now_failure_rate"])
        if not 0.0 <= scenario["run_now_failure_rate"] <= 1.0:
            raise ValueError("run_now_failure_rate must be null or within 0..1")
    factories = []
    for factory in scenario.get("factories") or []:
        factory = dict(factory)
        factory.setdefault("subscription_id", DEFAULT_SUBSCRIPTION)
        factory.setdefault("resource_group", "rg-sim")
        if not factory.get("factory_name"):
            raise ValueError("every factory needs a factory_name")
        factory["pipelines"] = [_normalize_schedule(p, "activities", "pipeline") for p in factory.get("pipelines", [])]
        extra = factory.get("extra_triggers") or []
        if not all(isinstance(t, dict) and t.get("name") and isinstance(t.get("properties"), dict) for t in extra):
            raise ValueError(
                f"factory {factory['factory_name']!r}: every extra_triggers item needs name and properties"
            )
        factories.append(factory)
    scenario["factories"] = factories
    workspaces = []
    for workspace in scenario.get("workspaces") or []:
        workspace = dict(workspace)
        if not workspace.get("token"):
            raise ValueError("every workspace needs a token")
        workspace.setdefault("workspace_id", 1234567890123456)
        workspace.setdefault("host", f"https://adb-{workspace['workspace_id']}.7.azuredatabricks.net")
        workspace["jobs"] = [_normalize_schedule(j, "tasks", "job") for j in workspace.get("jobs", [])]
        workspace["sql_warehouses"] = normalize_sql_warehouses(workspace.get("sql_warehouses"))
        workspaces.append(workspace)
    scenario["workspaces"] = workspaces
    if int(scenario["sql_chunk_rows"]) < 1 or float(scenario["sql_delay_seconds"]) < 0:
        raise ValueError("sql_chunk_rows must be >= 1 and sql_delay_seconds >= 0")
    if len({w["token"] for w in workspaces}) != len(workspaces):
        raise ValueError("workspace tokens must be unique (the token selects the workspace)")
    scenario["warehouse_loads"] = normalize_loads(scenario)
    scenario["warehouse_problems"] = normalize_problems(scenario)
    scenario["storms"] = normalize_storms(scenario.get("storms"))
    return scenario
