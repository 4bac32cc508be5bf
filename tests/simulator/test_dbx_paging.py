"""Jobs API 2.2 array paging, throttling with Retry-After and Databricks notification auth, as the simulator does
them (raw HTTP for exact shapes, the real databricks-sdk for its own paging)."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import requests

from simulator.scenarios import WIDE_JOB_TASKS
from simulator.testing import SimulatorError, SimulatorHandle, run_simulator
from tests.simulator.conftest import CLOCK_START, TOKEN


@pytest.fixture
def wide_sim() -> Iterator[SimulatorHandle]:
    with run_simulator("wide", clock_start=CLOCK_START) as handle:
        yield handle


def _get(sim, path: str, version: str = "2.2", **params) -> requests.Response:
    return requests.get(
        f"{sim.url}/api/{version}/jobs/{path}", params=params, headers={"Authorization": f"Bearer {TOKEN}"}
    )


def _wide_failure(sim, step: int = 117) -> int:
    return sim.fail("databricks", "warehouse_fanout", step=step, variant="standard", notify=False)["run_id"]


def test_runs_get_pages_tasks_by_100_with_next_page_token(wide_sim):
    run_id = _wide_failure(wide_sim)

    first = _get(wide_sim, "runs/get", run_id=run_id).json()
    second = _get(wide_sim, "runs/get", run_id=run_id, page_token=first["next_page_token"]).json()

    assert len(first["tasks"]) == 100 and first["has_more"] is True
    assert len(second["tasks"]) == WIDE_JOB_TASKS - 100 and second["has_more"] is False
    assert "next_page_token" not in second
    # Arrays with nothing more come back empty on later pages.
    assert first["job_parameters"] and second["job_parameters"] == [] and second["job_clusters"] == []
    tasks = first["tasks"] + second["tasks"]
    assert [t["task_key"] for t in tasks] == [f"load_table_{i:03d}" for i in range(WIDE_JOB_TASKS)]
    failed = [t["task_key"] for t in tasks if t["state"].get("result_state") == "FAILED"]
    assert failed == ["load_table_117"]


def test_runs_get_through_the_sdk_merges_every_page(wide_sim):
    run_id = _wide_failure(wide_sim)

    run = wide_sim.databricks_client().jobs.get_run(run_id)

    assert len(run.tasks) == WIDE_JOB_TASKS
    assert len({t.run_id for t in run.tasks}) == WIDE_JOB_TASKS


def test_runs_get_version_2_1_does_not_page(wide_sim):
    run_id = _wide_failure(wide_sim)

    body = _get(wide_sim, "runs/get", version="2.1", run_id=run_id).json()

    assert len(body["tasks"]) == WIDE_JOB_TASKS and "has_more" not in body and "next_page_token" not in body


def test_runs_get_page_token_of_another_run_is_refused(wide_sim):
    run_id, other = _wide_failure(wide_sim), _wide_failure(wide_sim, step=3)
    token = _get(wide_sim, "runs/get", run_id=run_id).json()["next_page_token"]

    response = _get(wide_sim, "runs/get", run_id=other, page_token=token)

    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_runs_list_marks_runs_whose_tasks_were_truncated(wide_sim):
    _wide_failure(wide_sim)

    runs = _get(wide_sim, "runs/list", expand_tasks="true", limit=25).json()["runs"]

    wide = [run for run in runs if run["run_name"] == "warehouse_fanout"]
    small = [run for run in runs if run["run_name"] == "orders_daily"]
    assert wide and small
    assert all(run["has_more"] is True and len(run["tasks"]) == 100 for run in wide)
    assert all(run["has_more"] is False and len(run["tasks"]) == 3 for run in small)
    assert all("next_page_token" not in run for run in runs)


def test_wide_scenario_has_failures_past_the_first_page(wide_sim):
    failed_steps = [run["failed_step"] for run in wide_sim.truth("databricks") if run["status"] == "FAILED"]

    assert [step for step in failed_steps if step.startswith("load_table_") and int(step[-3:]) >= 100]


def test_fault_count_throttles_the_next_calls_with_retry_after_then_answers(wide_sim):
    run_id = _wide_failure(wide_sim)
    wide_sim.set_faults(rate=1.0, kinds=["429"], sources=["databricks"], retry_after=7, count=2)

    answers = [_get(wide_sim, "runs/get", run_id=run_id) for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "7"
    assert answers[0].json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"


def test_fault_count_must_be_a_whole_number(wide_sim):
    with pytest.raises(SimulatorError) as caught:
        wide_sim.set_faults(rate=1.0, count=-1)

    assert caught.value.status == 400 and "faults.count" in caught.value.body["error"]


def test_databricks_notification_basic_auth_by_default(sim, receiver):
    sim.set_notify(databricks_url=receiver.url + "/dbx", secret="s3cret")

    sim.fail("databricks", "orders_daily")

    (got,) = receiver.wait_for(1)
    assert got["path"] == "/dbx"
    assert got["headers"]["Authorization"] == "Basic " + base64.b64encode(b"databricks:s3cret").decode()
    assert not [name for name in got["headers"] if name.lower().startswith("x-aims")]


def test_databricks_notification_token_in_the_url_when_asked(sim, receiver):
    sim.set_notify(databricks_url=receiver.url + "/dbx?tenant=a", secret="s3cret", databricks_auth="token")

    sim.fail("databricks", "orders_daily")

    (got,) = receiver.wait_for(1)
    assert got["path"] == "/dbx?tenant=a&token=s3cret"
    assert "Authorization" not in got["headers"]
    assert not [name for name in got["headers"] if name.lower().startswith("x-aims")]
    # What the simulator keeps of its deliveries leaves the secret out.
    assert "s3cret" not in str(sim.call("GET", "/_sim/notifications"))


def test_databricks_notification_auth_must_be_known(sim):
    with pytest.raises(SimulatorError) as caught:
        sim.set_notify(databricks_auth="x-aims-token")

    assert caught.value.status == 400 and "databricks_auth" in caught.value.body["error"]
