"""The simulated workspace's run page (/jobs/<job_id>/runs/<run_id>): where AIMS's link to a Databricks run lands."""

from __future__ import annotations

import requests


def test_run_page_answers_html_for_a_run_of_its_job_and_404_otherwise(default_sim):
    run = next(iter(default_sim.world.dbx_runs.values()))
    job_id = run.job.job_id

    page = requests.get(f"{default_sim.url}/jobs/{job_id}/runs/{run.run_id}", timeout=5)
    wrong_job = requests.get(f"{default_sim.url}/jobs/{job_id + 1}/runs/{run.run_id}", timeout=5)

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"Run {run.run_id}" in page.text and str(job_id) in page.text
    assert wrong_job.status_code == 404
    assert requests.get(f"{default_sim.url}/jobs/1/runs/x", timeout=5).status_code == 404
