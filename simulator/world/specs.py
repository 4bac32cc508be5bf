"""The scenario's factories, pipelines, workspaces and jobs, as specs the run builders draw from."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from simulator.corpus import rows_for
from simulator.model import FactorySpec, JobSpec, PipelineSpec, WorkspaceSpec
from simulator.timefmt import US_PER_S

if TYPE_CHECKING:
    from simulator.world.state import World


def activity_type(name: str) -> str:
    """Guess a realistic ADF activity type from an activity's display name."""
    lowered = name.lower()
    for needle, kind in (
        ("notebook", "DatabricksNotebook"),
        ("copy", "Copy"),
        ("lookup", "Lookup"),
        ("merge", "SqlServerStoredProcedure"),
        ("stored", "SqlServerStoredProcedure"),
        ("execute", "ExecutePipeline"),
        ("foreach", "ForEach"),
    ):
        if needle in lowered:
            return kind
    return "WebActivity"


def build_specs(world: World, sc: dict[str, Any]) -> None:
    """Fill the world's factories and workspaces (and their empty run lists) from a loaded scenario."""
    for f in sc["factories"]:
        factory = FactorySpec(f["subscription_id"], f["resource_group"], f["factory_name"])
        factory.extra_triggers = [dict(t) for t in f.get("extra_triggers") or []]
        for p in f["pipelines"]:
            acts = [(a, activity_type(a)) if isinstance(a, str) else (a["name"], a["type"]) for a in p["activities"]]
            factory.pipelines[p["name"].casefold()] = PipelineSpec(
                factory=factory,
                name=p["name"],
                activities=acts,
                interval_us=int(p["interval_seconds"] * US_PER_S),
                duration_us=(int(p["duration_seconds"][0] * US_PER_S), int(p["duration_seconds"][1] * US_PER_S)),
                queue_us=(int(p["queue_seconds"][0] * US_PER_S), int(p["queue_seconds"][1] * US_PER_S)),
                failure_rate=float(p["failure_rate"]),
                cancel_rate=float(p["cancel_rate"]),
                corpus=rows_for("adf", p.get("corpus_ids")),
                parameters={k: str(v) for k, v in (p.get("parameters") or {}).items()},
                trigger=p["trigger"],
                paused=p["paused"],
                timezone=p["timezone"],
            )
        world.factories[factory.key] = factory
        world.adf_by_factory[factory.key] = []
    for w in sc["workspaces"]:
        ws = WorkspaceSpec(w["token"], int(w["workspace_id"]), w["host"].rstrip("/"))
        ws.sql_warehouses = {sql["id"]: sql["name"] for sql in w["sql_warehouses"]}
        id_rng = random.Random(f"{world.seed}/databricks/{ws.workspace_id}/jobs")
        for j in w["jobs"]:
            job_id = int(j.get("job_id") or world.new_dbx_id(id_rng, per_start=False))
            world.dbx_ids.add(job_id)
            ws.jobs[job_id] = JobSpec(
                workspace=ws,
                job_id=job_id,
                name=j["name"],
                tasks=list(j["tasks"]),
                interval_us=int(j["interval_seconds"] * US_PER_S),
                duration_us=(int(j["duration_seconds"][0] * US_PER_S), int(j["duration_seconds"][1] * US_PER_S)),
                queue_us=(int(j["queue_seconds"][0] * US_PER_S), int(j["queue_seconds"][1] * US_PER_S)),
                failure_rate=float(j["failure_rate"]),
                cancel_rate=float(j["cancel_rate"]),
                corpus=rows_for("databricks", j.get("corpus_ids")),
                paused=j["paused"],
                timezone=j["timezone"],
            )
        world.workspaces[ws.token] = ws
        world.dbx_by_workspace[ws.token] = []
