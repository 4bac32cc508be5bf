"""Fault injection: each kind has the platform's status, body and headers, and never changes world state."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from tests.simulator.conftest import TOKEN, adf_path, raw_window

ADF_AUTH = {"Authorization": "Bearer sim"}
DBX_AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _always(sim, kind: str, **extra) -> None:
    sim.set_faults(rate=1.0, kinds=[kind], retry_after=3, slow_seconds=0.3, **extra)


def _adf_query(sim) -> requests.Response:
    return requests.post(sim.url + adf_path("/queryPipelineRuns"), json=raw_window(), headers=ADF_AUTH)


def _dbx_list(sim) -> requests.Response:
    return requests.get(sim.url + "/api/2.2/jobs/runs/list", headers=DBX_AUTH)


def test_fault_429_uses_platform_throttling_bodies_and_retry_after(sim):
    _always(sim, "429")
    adf = _adf_query(sim)
    assert adf.status_code == 429 and adf.headers["Retry-After"] == "3"
    assert adf.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert adf.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    dbx = _dbx_list(sim)
    assert dbx.status_code == 429 and dbx.headers["Retry-After"] == "3"
    assert dbx.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"


@pytest.mark.parametrize(
    ("kind", "adf_code", "dbx_code"),
    [("500", "InternalServerError", "INTERNAL_ERROR"), ("503", "ServiceUnavailable", "TEMPORARILY_UNAVAILABLE")],
)
def test_fault_server_errors_use_platform_bodies(sim, kind, adf_code, dbx_code):
    _always(sim, kind)
    adf, dbx = _adf_query(sim), _dbx_list(sim)
    assert adf.status_code == dbx.status_code == int(kind)
    assert adf.json()["error"]["code"] == adf_code
    assert dbx.json()["error_code"] == dbx_code


@pytest.mark.parametrize("kind", ["truncated", "malformed"])
def test_fault_broken_bodies_are_200_with_invalid_json(sim, kind):
    sim.fail("adf", "pl_daily_orders", notify=False)
    _always(sim, kind)
    for resp in (_adf_query(sim), _dbx_list(sim)):
        assert resp.status_code == 200
        with pytest.raises(ValueError):
            json.loads(resp.text)


@pytest.mark.parametrize("kind", ["429", "500", "503", "truncated", "malformed"])
def test_faulted_writes_do_not_change_state(sim, kind):
    adf_run = sim.fail("adf", "pl_daily_orders", notify=False)["run_id"]
    dbx_run = sim.fail("databricks", "orders_daily", notify=False)["run_id"]
    before_adf, before_dbx = sim.truth("adf"), sim.truth("databricks")
    _always(sim, kind)
    create = adf_path("/pipelines/pl_daily_orders/createRun") + f"&referencePipelineRunId={adf_run}&isRecovery=true"
    requests.post(sim.url + create, json={}, headers=ADF_AUTH)
    requests.post(sim.url + adf_path(f"/pipelineruns/{adf_run}/cancel"), headers=ADF_AUTH)
    body = {"run_id": dbx_run, "rerun_all_failed_tasks": True}
    requests.post(sim.url + "/api/2.2/jobs/runs/repair", json=body, headers=DBX_AUTH)
    requests.post(sim.url + "/api/2.2/jobs/runs/cancel", json={"run_id": dbx_run}, headers=DBX_AUTH)
    sim.set_faults(rate=0.0)
    assert sim.truth("adf") == before_adf
    assert sim.truth("databricks") == before_dbx
    assert sim.reruns() == []
    assert sim.stats()["faults"] == {kind: 4}


def test_fault_slow_delays_without_blocking_other_requests(sim):
    _always(sim, "slow")
    results: dict[str, float] = {}

    def slow_call() -> None:
        started = time.monotonic()
        assert _dbx_list(sim).status_code == 200
        results["slow"] = time.monotonic() - started

    thread = threading.Thread(target=slow_call)
    thread.start()
    time.sleep(0.05)
    started = time.monotonic()
    assert requests.get(sim.url + "/_sim/clock").status_code == 200  # admin endpoints are never faulted
    results["admin"] = time.monotonic() - started
    thread.join()
    assert results["slow"] >= 0.3
    assert results["admin"] < 0.2


def test_fault_rate_is_seeded_and_partial(sim):
    def sequence() -> list[int]:
        sim.set_faults(rate=0.5, kinds=["503"], seed=42)
        return [_dbx_list(sim).status_code for _ in range(20)]

    first, second = sequence(), sequence()
    assert first == second
    assert set(first) == {200, 503}


def test_faults_skip_llm_unless_enabled(sim):
    body = {"model": "sim", "messages": [{"role": "user", "content": "hello"}]}
    url = sim.url + "/v1/chat/completions"
    _always(sim, "500")
    assert requests.post(url, json=body, headers=ADF_AUTH).status_code == 200
    _always(sim, "429", apply_to_llm=True)
    resp = requests.post(url, json=body, headers=ADF_AUTH)
    assert resp.status_code == 429 and resp.json()["error"]["code"] == "rate_limit_exceeded"


def test_faults_never_apply_to_well_known_and_auth_comes_first(sim):
    _always(sim, "500")
    assert requests.get(sim.url + "/.well-known/databricks-config").status_code == 200
    assert requests.get(sim.url + "/api/2.2/jobs/runs/list").status_code == 401
    assert requests.post(sim.url + adf_path("/queryPipelineRuns"), json=raw_window()).status_code == 401
