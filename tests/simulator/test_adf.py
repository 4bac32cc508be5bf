"""ADF API through the real azure-mgmt-datafactory SDK (and raw HTTP where the SDK hides the wire format)."""

from __future__ import annotations

import time

import pytest
import requests
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.datafactory.models import RunFilterParameters, RunQueryFilter, RunQueryOrderBy

from simulator.corpus import row_by_id
from tests.simulator.conftest import FACTORY, RG, SUB, adf_path, raw_window, window


def _all_runs(client, factory: str, params: dict, on_page=None, rg: str = RG) -> list:
    """Follow continuationToken by hand, as ADF clients have to."""
    runs, token = [], None
    while True:
        page = client.pipeline_runs.query_by_factory(
            rg, factory, RunFilterParameters(**params, continuation_token=token)
        )
        runs.extend(page.value)
        token = page.continuation_token
        if on_page:
            on_page()
        if not token:
            return runs


def test_query_pipeline_runs_bulk_history_returns_every_run_exactly_once(bulk_sim):
    client = bulk_sim.adf_client()
    truth_ids = {r["run_id"] for r in bulk_sim.truth("adf") if r["origin"] == "history"}
    assert len(truth_ids) == 10_000
    started = time.monotonic()
    seen: list[str] = []
    for rg, factory in (("rg-sim", "adf-sim"), ("rg-sim-analytics", "adf-sim-analytics")):
        seen += [r.run_id for r in _all_runs(client, factory, window(), rg=rg)]
    elapsed = time.monotonic() - started
    assert len(seen) == len(set(seen))
    assert {run_id for run_id in seen if run_id in truth_ids} == truth_ids
    assert elapsed < 15


def test_query_pipeline_runs_clock_moves_between_pages_snapshot_stays_stable(bulk_sim):
    client = bulk_sim.adf_client()
    ordering = [RunQueryOrderBy(order_by="RunEnd", order="DESC")]
    params = {**window(), "order_by": ordering}
    created: list[str] = []

    def disturb() -> None:
        # In-flight runs finish and new runs appear while we page: none of it may leak into this snapshot.
        bulk_sim.advance(600)
        if not created:
            created.append(client.pipelines.create_run(RG, FACTORY, "pl_daily_orders").run_id)

    runs = _all_runs(client, FACTORY, params, on_page=disturb)
    ids = [r.run_id for r in runs]
    assert len(ids) == len(set(ids))
    assert created[0] not in ids
    ends = [r.run_end for r in runs if r.run_end is not None]
    assert ends == sorted(ends, reverse=True)


def test_query_pipeline_runs_filters_and_order_match_truth(default_sim):
    client = default_sim.adf_client()
    truth = [r for r in default_sim.truth("adf") if r["factory"] == FACTORY]
    expected = {
        r["run_id"] for r in truth if r["pipeline"] == "pl_daily_orders" and r["status"] in ("Failed", "Cancelled")
    }
    filters = [
        RunQueryFilter(operand="PipelineName", operator="Equals", values_property=["pl_daily_orders"]),
        RunQueryFilter(operand="Status", operator="In", values_property=["Failed", "Cancelled"]),
    ]
    order = [RunQueryOrderBy(order_by="RunStart", order="ASC")]
    runs = _all_runs(client, FACTORY, {**window(), "filters": filters, "order_by": order})
    assert {r.run_id for r in runs} == expected
    starts = [r.run_start for r in runs]
    assert starts == sorted(starts)
    not_in = [RunQueryFilter(operand="Status", operator="NotIn", values_property=["Succeeded"])]
    others = _all_runs(client, FACTORY, {**window(), "filters": not_in})
    assert {r.status for r in others} <= {"Failed", "Cancelled", "InProgress", "Queued"}
    assert len(others) == sum(1 for r in truth if r["status"] != "Succeeded")


def test_query_pipeline_runs_window_excludes_runs_updated_outside(default_sim):
    truth = [r for r in default_sim.truth("adf") if r["factory"] == FACTORY]
    cut = sorted(r["last_updated"] for r in truth)[len(truth) // 2]
    body = {**raw_window(), "lastUpdatedAfter": cut}
    resp = requests.post(default_sim.url + adf_path("/queryPipelineRuns"), json=body, headers=_auth())
    got = {r["runId"] for r in resp.json()["value"]}
    assert got == {r["run_id"] for r in truth if r["last_updated"] >= cut}


def test_query_pipeline_runs_wire_format_matches_reference(sim):
    run_id = sim.fail("adf", "pl_daily_orders", corpus_id="adf-0071")["run_id"]
    resp = requests.post(sim.url + adf_path("/queryPipelineRuns"), json=raw_window(), headers=_auth())
    assert resp.status_code == 200
    assert resp.headers["x-ms-request-id"]
    assert int(resp.headers["x-ms-ratelimit-remaining-subscription-reads"]) > 0
    run = resp.json()["value"][0]
    assert run["runId"] == run_id == run["runGroupId"]
    assert run["isLatest"] is True
    assert run["status"] == "Failed"
    assert run["message"].startswith("Operation on target ") and run["message"].endswith(": Error 403.")
    for key in ("runStart", "runEnd", "lastUpdated"):
        assert len(run[key]) == len("2025-03-14T02:00:04.1185392Z") and run[key].endswith("Z")
    assert run["id"].startswith(f"/SUBSCRIPTIONS/{SUB.upper()}/RESOURCEGROUPS/RG-SIM/")
    assert resp.json()["continuationToken"] is None


def test_activity_runs_failure_detail_equals_truth(default_sim):
    client = default_sim.adf_client()
    failed = [r for r in default_sim.truth("adf") if r["factory"] == FACTORY and r["status"] == "Failed"]
    assert failed
    for truth in failed:
        run = client.pipeline_runs.get(RG, FACTORY, truth["run_id"])
        assert run.status == "Failed"
        assert run.message.startswith(f"Operation on target {truth['failed_step']} failed: ")
        acts = client.activity_runs.query_by_pipeline_run(RG, FACTORY, truth["run_id"], RunFilterParameters(**window()))
        statuses = [(a.activity_name, a.status) for a in acts.value]
        assert statuses[-1] == (truth["failed_step"], "Failed")
        assert all(status == "Succeeded" for _, status in statuses[:-1])
        error = acts.value[-1].error
        assert error["message"] == row_by_id(truth["corpus_id"]).error_message
        assert error["errorCode"] == (truth["error_code"] or "2200")
        assert error["target"] == truth["failed_step"]
        assert error["failureType"] == ("SystemError" if truth["label"] in ("transient", "resource") else "UserError")


def test_create_run_recovery_starts_from_failed_activity_and_shares_group(sim):
    client = sim.adf_client()
    original = sim.fail("adf", "pl_daily_orders", step="Run transform notebook")["run_id"]
    new_id = client.pipelines.create_run(
        RG, FACTORY, "pl_daily_orders", reference_pipeline_run_id=original, is_recovery=True, start_from_failure=True
    ).run_id
    sim.advance(3600)
    new, old = client.pipeline_runs.get(RG, FACTORY, new_id), client.pipeline_runs.get(RG, FACTORY, original)
    assert new.run_group_id == old.run_group_id == original
    assert new.is_latest is True and old.is_latest is False
    assert new.parameters == old.parameters
    acts = client.activity_runs.query_by_pipeline_run(RG, FACTORY, new_id, RunFilterParameters(**window()))
    names = [a.activity_name for a in acts.value]
    assert names[0] == "Run transform notebook"
    assert "Copy orders" not in names
    latest = [RunQueryFilter(operand="LatestOnly", operator="Equals", values_property=[True])]
    group = [RunQueryFilter(operand="RunGroupId", operator="Equals", values_property=[original])]
    assert [r.run_id for r in _all_runs(client, FACTORY, {**window(), "filters": group + latest})] == [new_id]
    assert {r.run_id for r in _all_runs(client, FACTORY, {**window(), "filters": group})} == {original, new_id}
    record = sim.reruns("adf")[-1]
    assert record["kind"] == "createRun" and record["params"]["isRecovery"] is True
    assert record["reference_run_id"] == original and record["new_run_id"] == new_id


def test_create_run_start_activity_name_and_plain_rerun(sim):
    client = sim.adf_client()
    original = sim.fail("adf", "pl_daily_orders", step="Publish")["run_id"]
    from_copy = client.pipelines.create_run(
        RG,
        FACTORY,
        "pl_daily_orders",
        reference_pipeline_run_id=original,
        is_recovery=True,
        start_activity_name="Run transform notebook",
    ).run_id
    plain = client.pipelines.create_run(RG, FACTORY, "pl_daily_orders", reference_pipeline_run_id=original).run_id
    sim.advance(3600)
    first_activity = {}
    for run_id in (from_copy, plain):
        acts = client.activity_runs.query_by_pipeline_run(RG, FACTORY, run_id, RunFilterParameters(**window()))
        first_activity[run_id] = acts.value[0].activity_name
    assert first_activity == {from_copy: "Run transform notebook", plain: "Copy orders"}
    assert client.pipeline_runs.get(RG, FACTORY, plain).run_group_id == plain


def test_create_run_unknown_pipeline_is_404_and_creates_nothing(sim):
    client = sim.adf_client()
    with pytest.raises(ResourceNotFoundError) as exc:
        client.pipelines.create_run(RG, FACTORY, "pl_missing")
    assert exc.value.error.code == "PipelineNotFound"
    assert sim.truth("adf") == []


def test_cancel_in_progress_run_reports_cancelled(sim):
    client = sim.adf_client()
    run_id = client.pipelines.create_run(RG, FACTORY, "pl_customers_sync").run_id
    sim.advance(10)
    client.pipeline_runs.cancel(RG, FACTORY, run_id)
    run = client.pipeline_runs.get(RG, FACTORY, run_id)
    assert run.status == "Cancelled" and run.run_end is not None
    assert sim.reruns("adf")[-1]["outcome"] == "cancelled"


def test_get_pipeline_run_unknown_id_is_404_cloud_error(sim):
    resp = requests.get(sim.url + adf_path("/pipelineruns/00000000-0000-4000-8000-000000000000"), headers=_auth())
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "PipelineRunNotFound"
    client = sim.adf_client()
    with pytest.raises(ResourceNotFoundError):
        client.pipeline_runs.get(RG, FACTORY, "00000000-0000-4000-8000-000000000000")


def test_adf_requests_without_token_or_api_version_are_rejected(sim):
    url = sim.url + adf_path("/queryPipelineRuns")
    no_auth = requests.post(url, json=raw_window())
    assert no_auth.status_code == 401 and no_auth.json()["error"]["code"] == "AuthenticationFailed"
    no_version = requests.post(url.split("?")[0], json=raw_window(), headers=_auth())
    assert no_version.status_code == 400 and no_version.json()["error"]["code"] == "MissingApiVersionParameter"
    wrong = requests.post(url.split("?")[0] + "?api-version=2017-09-01-preview", json=raw_window(), headers=_auth())
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "InvalidApiVersionParameter"


@pytest.mark.parametrize("missing", ["lastUpdatedAfter", "lastUpdatedBefore"])
def test_query_pipeline_runs_missing_window_field_is_400_naming_it(sim, missing):
    body = {k: v for k, v in raw_window().items() if k != missing}
    resp = requests.post(sim.url + adf_path("/queryPipelineRuns"), json=body, headers=_auth())
    assert resp.status_code == 400
    assert missing in resp.json()["error"]["message"]


def test_query_pipeline_runs_bad_filters_are_400(sim):
    url = sim.url + adf_path("/queryPipelineRuns")
    several_groups = {**raw_window(), "filters": [{"operand": "RunGroupId", "operator": "In", "values": ["a", "b"]}]}
    resp = requests.post(url, json=several_groups, headers=_auth())
    assert resp.status_code == 400 and "does not support and array of values" in resp.json()["error"]["message"]
    bad_operand = {**raw_window(), "filters": [{"operand": "ActivityName", "operator": "Equals", "values": ["x"]}]}
    assert requests.post(url, json=bad_operand, headers=_auth()).status_code == 400
    bad_token = {**raw_window(), "continuationToken": "not-a-token"}
    assert requests.post(url, json=bad_token, headers=_auth()).status_code == 400
    client = sim.adf_client()
    with pytest.raises(HttpResponseError):
        client.pipeline_runs.query_by_factory(
            RG, FACTORY, RunFilterParameters(**window(), order_by=[RunQueryOrderBy(order_by="Nope", order="ASC")])
        )


def test_latest_only_string_value_is_ignored_like_the_service(sim):
    client = sim.adf_client()
    original = sim.fail("adf", "pl_daily_orders")["run_id"]
    client.pipelines.create_run(RG, FACTORY, "pl_daily_orders", reference_pipeline_run_id=original, is_recovery=True)
    string_flag = [RunQueryFilter(operand="LatestOnly", operator="Equals", values_property=["True"])]
    assert len(_all_runs(client, FACTORY, {**window(), "filters": string_flag})) == 2


def test_per_call_enforce_https_false_also_works(sim):
    from azure.mgmt.datafactory import DataFactoryManagementClient

    from simulator.testing import StaticTokenCredential

    run_id = sim.fail("adf", "pl_daily_orders")["run_id"]
    client = DataFactoryManagementClient(StaticTokenCredential(), SUB, base_url=sim.url, retry_total=0)
    assert client.pipeline_runs.get(RG, FACTORY, run_id, enforce_https=False).status == "Failed"


def _auth() -> dict[str, str]:
    return {"Authorization": "Bearer sim"}
