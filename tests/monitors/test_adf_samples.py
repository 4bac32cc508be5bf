"""The published ADF REST samples (the 2018-06-01 spec's examples, the reference's samples, the activity error whose
message is a whole error object) served to the real azure-mgmt-datafactory SDK through AIMS's client, and stored.

A stand-in ARM endpoint on 127.0.0.1 answers each operation with a sample body as published (samples/adf_rest/)."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from monitors.clients.adf import AdfClient
from monitors.clients.base import RerunRequest
from monitors.models import Connection, Monitor, PipelineRun, RerunMode
from monitors.services import monitor_poll
from simulator.corpus import row_by_id
from simulator.testing import run_simulator
from tests.monitors.arm_stand_in import SAMPLES, ArmStandIn, adf_sample
from tests.monitors.conftest import connect_to

FAILED_RUN_ID = "7d1c2a9e-3b8f-4c55-9a61-0e2f4b7c8d11"
# The inner object of activity_error_envelope.json
INNER_MESSAGE = (
    "Failure happened on 'Sink' side. ErrorCode=UserErrorFailedFileOperation,'Type=Microsoft.DataTransfer.Common."
    "Shared.HybridDeliveryException,Message=Upload file failed at path raw/orders.,Source=Microsoft.DataTransfer."
    "Common,'"
)


def _example(name: str) -> dict:
    """The 200 body of a spec example."""
    return json.loads((SAMPLES / f"{name}.json").read_text())["responses"]["200"]["body"]


@pytest.fixture
def arm() -> Iterator[ArmStandIn]:
    stand_in = ArmStandIn()
    yield stand_in
    stand_in.close()


@pytest.fixture
def connection(arm, db, flow_settings) -> Connection:
    flow_settings.POLL_INITIAL_LOOKBACK_HOURS = 24 * 365 * 10  # the spec examples ran in 2018
    return Connection.objects.create(
        name="adf-samples",
        kind=Connection.Kind.ADF,
        is_simulator=True,
        host=arm.url,
        auth_method=Connection.AuthMethod.STATIC_TOKEN,
        subscription_id="12345678-1234-1234-1234-12345678abc",
        resource_group="exampleResourceGroup",
        factory_name="exampleFactoryName",
    )


def _poll(connection: Connection, capture) -> None:
    monitor = Monitor.objects.create(connection=connection, name="all")
    with capture(execute=True):
        monitor_poll(monitor_id=monitor.pk)


def test_adf_sample_query_by_factory_poll_stores_each_run(arm, connection, django_capture_on_commit_callbacks):
    arm.answers["queryPipelineRuns"] = _example("PipelineRuns_QueryByFactory")

    _poll(connection, django_capture_on_commit_callbacks)

    runs = {run.external_run_id: run for run in PipelineRun.objects.select_related("pipeline")}
    succeeded, cancelled = runs["2f7fdb90-5df1-4b8e-ac2f-064cfa58202b"], runs["16ac5348-ff82-4f95-a80d-638c1d47b721"]
    assert (succeeded.status, cancelled.status) == (PipelineRun.Status.SUCCEEDED, PipelineRun.Status.CANCELLED)
    assert succeeded.pipeline.name == cancelled.pipeline.name == "examplePipeline"
    assert succeeded.started_at == datetime(2018, 6, 16, 0, 37, 44, 625701, tzinfo=UTC)
    assert succeeded.ended_at == datetime(2018, 6, 16, 0, 38, 12, 731449, tzinfo=UTC)
    assert succeeded.duration_ms == 28105 and succeeded.error_message == ""
    assert cancelled.ended_at is None and cancelled.duration_ms is None  # runEnd null, as the example shows
    assert cancelled.raw["runDimension"] == {"JobId": "84a3c493-0628-4b44-852f-ef5b3a11bdab"}
    assert [operation for operation, _, _ in arm.requests] == ["queryPipelineRuns"]


def test_adf_sample_get_run_and_succeeded_activities_read(arm, connection):
    arm.answers["getRun"] = _example("PipelineRuns_Get")
    arm.answers["queryActivityruns"] = _example("ActivityRuns_QueryByPipelineRun")
    client = AdfClient(connection, timeout=2)

    record = client.get_run("2f7fdb90-5df1-4b8e-ac2f-064cfa58202b")
    detail = client.failure_detail(record.raw, record.external_run_id)

    assert (record.pipeline_name, record.status, record.platform_status) == ("myPipeline", "succeeded", "Succeeded")
    assert record.updated_at == datetime(2018, 6, 16, 0, 38, 12, 731449, tzinfo=UTC)
    # Empty error objects ("" everywhere, as the example's succeeded activities have) name no failure.
    assert (detail.failed_step, detail.error_code, detail.error_message) == ("", "", "")
    assert [a["activityName"] for a in detail.raw["activity_runs"]] == ["ExampleForeachActivity", "ExampleCopyActivity"]
    assert arm.requests[0][1].endswith("/pipelineruns/2f7fdb90-5df1-4b8e-ac2f-064cfa58202b")


def test_adf_sample_failed_notebook_run_stores_the_activity_error(arm, connection, django_capture_on_commit_callbacks):
    sample = adf_sample("reference_failed_notebook_run")
    arm.answers |= {"queryPipelineRuns": sample["queryPipelineRuns"], "queryActivityruns": sample["queryActivityruns"]}

    _poll(connection, django_capture_on_commit_callbacks)

    run = PipelineRun.objects.get(external_run_id=FAILED_RUN_ID)
    assert run.status == PipelineRun.Status.FAILED and run.detail_fetched_at is not None
    assert (run.failed_step, run.error_code) == ("Run transform notebook", "3204")
    assert run.error_message == (
        "Job execution failed.\nAnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` "
        "cannot be found."
    )
    assert run.failure_detail["activity_runs"][0]["activityType"] == "DatabricksNotebook"


@pytest.mark.parametrize(
    ("case", "step", "code"),
    [
        # the wrapper's own target says only "the child failed": the inner target names the step
        ("execute_pipeline", "Copy1", "2200"),
        # an activity that names itself keeps its name; the code and message are still the inner ones
        ("copy_reporting_received_error", "Copy orders", "2200"),
    ],
)
def test_adf_activity_error_with_error_object_message_is_unwrapped(
    arm, connection, django_capture_on_commit_callbacks, case, step, code
):
    arm.answers["queryPipelineRuns"] = adf_sample("reference_failed_notebook_run")["queryPipelineRuns"]
    arm.answers["queryActivityruns"] = adf_sample("activity_error_envelope")[case]

    _poll(connection, django_capture_on_commit_callbacks)

    run = PipelineRun.objects.get(external_run_id=FAILED_RUN_ID)
    assert run.error_message == INNER_MESSAGE
    assert (run.failed_step, run.error_code) == (step, code)
    assert not run.error_message.lstrip().startswith("{")


def test_adf_sample_create_run_recovers_with_the_reference_run(arm, connection):
    arm.answers["createRun"] = _example("Pipelines_CreateRun")
    request = RerunRequest(
        external_run_id=FAILED_RUN_ID,
        pipeline_external_id="myPipeline",
        pipeline_name="myPipeline",
        run_raw={"runId": FAILED_RUN_ID},
        mode=RerunMode.RECOVER,
        idempotency_key="1:1",
    )

    started = AdfClient(connection, timeout=2).start_rerun(request)

    assert started.rerun_id == started.run_id == "2f7fdb90-5df1-4b8e-ac2f-064cfa58202b"
    (operation, path, query) = arm.requests[-1]
    assert operation == "createRun" and path.endswith("/pipelines/myPipeline/createRun")
    assert query["referencePipelineRunId"] == [FAILED_RUN_ID]
    assert query["isRecovery"] == ["true"] and query["startFromFailure"] == ["true"]
    assert query["api-version"] == ["2018-06-01"]


@pytest.mark.django_db
def test_simulator_adf_error_objects_are_stored_as_their_inner_error(flow_settings, django_capture_on_commit_callbacks):
    # adf-0151: the row's code (SftpRenameOperationFail) is the outer errorCode; the inner object says 2200.
    row = row_by_id("adf-0151")
    with run_simulator("quiet") as sim:
        connections = connect_to(sim)
        pipeline = sim.scenario()["factories"][0]["pipelines"][0]["name"]
        failed = sim.fail("adf", pipeline, corpus_id=row.id)
        with django_capture_on_commit_callbacks(execute=True):
            monitor_poll(monitor_id=Monitor.objects.get(connection=connections["adf-sim"]).pk)
        (truth,) = [run for run in sim.truth("adf") if run["run_id"] == failed["run_id"]]

    run = PipelineRun.objects.get(external_run_id=failed["run_id"])
    inner = json.loads(row.error_message)
    assert truth["enveloped"] is True and truth["specific_error"] == inner["message"]
    assert run.error_message == inner["message"] and run.error_code == inner["errorCode"] == "2200"
    assert run.failed_step == truth["failed_step"]


@pytest.mark.django_db
def test_simulator_wraps_about_a_third_of_adf_errors_in_error_objects(bulk_sim):
    failed = [run for run in bulk_sim.truth("adf") if run["status"] == "Failed"]
    share = sum(run["enveloped"] for run in failed) / len(failed)
    assert len(failed) > 1000 and 0.2 < share < 0.5
