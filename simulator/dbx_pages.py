"""The workspace's run page (``/jobs/<job_id>/runs/<run_id>``), as a small HTML page: the link AIMS shows beside a
Databricks run opens here in the demo, as it opens the workspace's own page in the cloud."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from simulator.model import segment_state
from simulator.web import world_of

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1>
<p>Simulated Databricks workspace {workspace}: job <strong>{job}</strong> ({job_id}).</p>
<dl><dt>Run</dt><dd>{run_id}</dd><dt>State</dt><dd>{state}</dd><dt>Message</dt><dd>{message}</dd></dl>
</body></html>
"""


async def run_page(request: Request) -> Response:
    world = world_of(request)
    job_id, run_id = request.path_params["job_id"], request.path_params["run_id"]
    t, s = world.snapshot_point()
    with world.lock:
        run = world.dbx_runs.get(run_id)
        if run is None or run.job.job_id != job_id:
            return HTMLResponse(f"<!doctype html><title>Not found</title><p>No run {run_id} of job {job_id}.</p>", 404)
        state = segment_state(run, run.segment_at(s), t, s)
        values = {
            "title": f"Run {run_id}",
            "workspace": run.job.workspace.workspace_id,
            "job": run.job.name,
            "job_id": job_id,
            "run_id": run_id,
            "state": " / ".join(part for part in (state.life_cycle_state, state.result_state) if part),
            "message": state.state_message or "—",
        }
    return HTMLResponse(_PAGE.format(**{key: escape(str(value)) for key, value in values.items()}))


def routes() -> list[Route]:
    return [Route("/jobs/{job_id:int}/runs/{run_id:int}", run_page, methods=["GET"])]
