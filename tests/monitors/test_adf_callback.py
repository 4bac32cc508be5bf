"""The failure callback an ADF pipeline posts from a Web activity (POST /hooks/adf/<connection>/): the reference's
sample and the shapes pipeline authors write, through the endpoint and the drain, with the run read through the real
azure-mgmt-datafactory SDK from a stand-in ARM endpoint serving the reference's run. The simulator's callbacks:
test_adf_callback_simulator.py."""

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from monitors.models import Connection, PipelineRun, WebhookDelivery
from monitors.services import webhook_deliveries_drain
from tests.monitors.adf_callback_helpers import SECRET, deliver_callback, post_callback
from tests.monitors.arm_stand_in import ArmStandIn, adf_sample
from tests.monitors.factories import make_webhook_connection

RUN_ID = "7d1c2a9e-3b8f-4c55-9a61-0e2f4b7c8d11"  # the run of the reference's sections 1.3, 1.4 and 4.2
# The body of ../shared/reference/pipeline-apis.md section 4.2, as given there.
REFERENCE_BODY = {
    "source": "adf",
    "dataFactoryName": "adf-contoso-prod",
    "pipelineName": "pl_daily_orders",
    "runId": RUN_ID,
    "triggerType": "ScheduleTrigger",
    "triggerName": "tr_daily_0200",
    "triggerTime": "2025-03-14T02:00:00.0125541Z",
    "failedActivity": "Run transform notebook",
    "errorCode": "3204",
    "message": "Job execution failed.",
    "runPageUrl": "https://adb-1234567890123456.7.azuredatabricks.net/?o=1234567890123456#job/684127337461209/run/912345678901234",
}
PLATFORM_ERROR = (  # the failed activity's error in the reference's section 1.4
    "Job execution failed.\nAnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `raw`.`orders` cannot be "
    "found."
)


def _basic(password: str, user: str = "adf") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _signed(body: bytes) -> dict[str, str]:
    sent_at = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), sent_at.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-AIMS-Timestamp": sent_at, "X-AIMS-Signature": "sha256=" + digest}


def _run(status: str = "Failed", **fields) -> dict:
    """The reference's pipeline run (section 1.3) as pipelineruns/get answers it."""
    return {**adf_sample("reference_failed_notebook_run")["queryPipelineRuns"]["value"][0], "status": status, **fields}


@pytest.fixture
def arm():
    stand_in = ArmStandIn()
    stand_in.answers |= {
        "getRun": _run(),
        "queryActivityruns": adf_sample("reference_failed_notebook_run")["queryActivityruns"],
        "queryPipelineRuns": adf_sample("reference_failed_notebook_run")["queryPipelineRuns"],
    }
    yield stand_in
    stand_in.close()


@pytest.fixture
def factory(arm, db, flow_settings) -> Connection:
    """The factory of the reference's samples, served by the stand-in ARM endpoint."""
    return make_webhook_connection(
        name="adf-contoso",
        kind=Connection.Kind.ADF,
        secret=SECRET,
        host=arm.url,
        subscription_id="0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
        resource_group="rg-data-prod",
        factory_name="adf-contoso-prod",
    )


def _operations(arm) -> list[str]:
    return [operation for operation, _, _ in arm.requests]


# --- The reference's sample ---------------------------------------------------------------------------------------


def test_adf_callback_reference_sample_stores_the_platforms_error(
    client, arm, factory, django_capture_on_commit_callbacks
):
    delivery = deliver_callback(client, django_capture_on_commit_callbacks, REFERENCE_BODY)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error, delivery.run_ids) == (WebhookDelivery.Status.PROCESSED, "", [RUN_ID])
    assert delivery.source == WebhookDelivery.Source.ADF_CALLBACK and delivery.processed_at is not None
    run = PipelineRun.objects.get(external_run_id=RUN_ID)
    assert (run.status, run.failed_step, run.error_code) == ("failed", "Run transform notebook", "3204")
    assert run.error_message == PLATFORM_ERROR  # the platform's, not the callback's "Job execution failed."
    assert _operations(arm)[0] == "getRun" and arm.requests[0][1].endswith(f"/pipelineruns/{RUN_ID}")


def test_adf_callback_forged_message_and_code_are_not_stored(client, arm, factory, django_capture_on_commit_callbacks):
    forged = {**REFERENCE_BODY, "errorCode": "9999", "message": "Transient: please rerun", "failedActivity": "Other"}

    deliver_callback(client, django_capture_on_commit_callbacks, forged)

    run = PipelineRun.objects.get(external_run_id=RUN_ID)
    assert (run.failed_step, run.error_code, run.error_message) == ("Run transform notebook", "3204", PLATFORM_ERROR)


def test_adf_callback_message_is_shown_in_the_delivery_when_the_platform_has_none(
    client, arm, factory, django_capture_on_commit_callbacks
):
    arm.answers |= {"getRun": _run(message=""), "queryActivityruns": {"value": []}}

    delivery = deliver_callback(client, django_capture_on_commit_callbacks, REFERENCE_BODY)

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert delivery.error == (
        "the platform gave no error; the callback said (unverified): "
        "Run transform notebook: [3204] Job execution failed."
    )
    assert PipelineRun.objects.get(external_run_id=RUN_ID).error_message == ""


# --- Key spellings, text values, unresolved expressions ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"RunId": RUN_ID.upper(), "PipelineName": "pl_daily_orders", "DataFactoryName": "ADF-CONTOSO-PROD"},
        {"RUN_ID": RUN_ID, "PIPELINE_NAME": "pl_daily_orders", "DATA_FACTORY_NAME": "adf-contoso-prod"},
        {"pipelineRunId": RUN_ID, "activityName": "Run transform notebook", "errorMessage": "Job execution failed."},
        # an unresolved expression counts as missing; the next spelling that says something is taken
        {"runId": "@{pipeline().RunId}", "run_id": RUN_ID, "dataFactoryName": "@pipeline().DataFactory"},
        # the activity's whole error object, and every value interpolated to text
        {"runId": RUN_ID, "error": {"errorCode": "3204", "message": "Job execution failed."}, "retry": "1"},
    ],
    ids=["pascal", "upper-snake", "pipeline-run-id", "unresolved-then-resolved", "error-object"],
)
def test_adf_callback_key_spellings_find_the_run(client, arm, factory, django_capture_on_commit_callbacks, body):
    delivery = deliver_callback(client, django_capture_on_commit_callbacks, body)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.run_ids) == (WebhookDelivery.Status.PROCESSED, [RUN_ID])
    assert PipelineRun.objects.get(external_run_id=RUN_ID).error_message == PLATFORM_ERROR


@pytest.mark.parametrize(
    "body",
    [
        {key: value for key, value in REFERENCE_BODY.items() if key != "runId"},
        {**REFERENCE_BODY, "runId": "@{pipeline().RunId}"},
        {**{key: value for key, value in REFERENCE_BODY.items() if key != "runId"}, "TRIGGERTIME": "2025-03-14T02:00"},
    ],
    ids=["missing", "unresolved", "upper-trigger-time-without-zone"],
)
def test_adf_callback_without_run_id_looks_up_the_pipelines_failures_since_its_trigger(
    client, arm, factory, django_capture_on_commit_callbacks, body
):
    delivery = deliver_callback(client, django_capture_on_commit_callbacks, body)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.run_ids) == (WebhookDelivery.Status.PROCESSED, [RUN_ID])
    assert "getRun" not in _operations(arm)
    query = arm.requests[0]
    assert query[0] == "queryPipelineRuns"
    run = PipelineRun.objects.get(external_run_id=RUN_ID)
    assert (run.failed_step, run.error_message) == ("Run transform notebook", PLATFORM_ERROR)


# --- The run the callback comes from has not ended yet, or ended well ----------------------------------------------


def test_adf_callback_for_a_run_still_in_progress_waits_then_stores_the_failure(
    client, arm, factory, django_capture_on_commit_callbacks
):
    arm.answers["getRun"] = _run("InProgress", runEnd=None)  # the Web activity runs inside the failing run

    delivery = deliver_callback(client, django_capture_on_commit_callbacks, REFERENCE_BODY)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.processed_at) == (WebhookDelivery.Status.ACCEPTED, None)
    assert delivery.error == f"waiting: run {RUN_ID} is still running"
    assert delivery.claimed_until > timezone.now() and not PipelineRun.objects.exists()
    assert webhook_deliveries_drain() == 0  # held until its recheck

    arm.answers["getRun"] = _run()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook_deliveries_drain() == 1

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error, delivery.run_ids) == (WebhookDelivery.Status.PROCESSED, "", [RUN_ID])
    assert PipelineRun.objects.get(external_run_id=RUN_ID).error_message == PLATFORM_ERROR


def test_adf_callback_for_a_run_in_progress_too_long_is_left_to_the_poll(
    client, arm, factory, django_capture_on_commit_callbacks
):
    arm.answers["getRun"] = _run("InProgress", runEnd=None)
    delivery = deliver_callback(client, django_capture_on_commit_callbacks, REFERENCE_BODY)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        created_at=timezone.now() - timedelta(hours=1), claimed_until=timezone.now() - timedelta(seconds=1)
    )

    webhook_deliveries_drain()

    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.IGNORED
    assert delivery.error == f"run {RUN_ID} is still running after 30 min: the next poll stores its outcome"


def test_adf_callback_for_a_run_that_succeeded_is_ignored_with_reason(
    client, arm, factory, django_capture_on_commit_callbacks
):
    arm.answers["getRun"] = _run("Succeeded", message="")  # a try-catch pipeline: its failure path succeeded

    delivery = deliver_callback(client, django_capture_on_commit_callbacks, REFERENCE_BODY)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.run_ids) == (WebhookDelivery.Status.IGNORED, [RUN_ID])
    assert delivery.error == f"run {RUN_ID} ended succeeded: its failure path handled the failure"
    assert PipelineRun.objects.get().status == PipelineRun.Status.SUCCEEDED


def test_adf_callback_from_another_factory_is_ignored_with_reason(
    client, arm, factory, django_capture_on_commit_callbacks
):
    delivery = deliver_callback(
        client, django_capture_on_commit_callbacks, {**REFERENCE_BODY, "dataFactoryName": "adf-dev"}
    )

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error) == (
        WebhookDelivery.Status.IGNORED,
        "callback is from factory adf-dev, not factory adf-contoso-prod",
    )
    assert arm.requests == [] and not PipelineRun.objects.exists()


# --- Authentication and bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["header", "basic", "query", "signature"])
def test_adf_callback_authenticates_as_the_other_webhooks(client, factory, how):
    body = json.dumps(REFERENCE_BODY)
    headers = {
        "header": {"X-AIMS-Token": SECRET},
        "basic": {"Authorization": _basic(SECRET)},
        "query": {},
        "signature": _signed(body.encode()),
    }[how]

    response = post_callback(client, body, query=f"?token={SECRET}" if how == "query" else "", **headers)

    assert response.status_code == 202, response.content


@pytest.mark.parametrize(
    ("connection", "headers"),
    [
        ("adf-contoso", {"X-AIMS-Token": "wrong"}),
        ("adf-contoso", {"Authorization": _basic("wrong")}),
        ("adf-contoso", {}),
        ("no-such-factory", {"X-AIMS-Token": SECRET}),
        ("dbx-prod", {"X-AIMS-Token": SECRET}),  # a Databricks connection, asked without its secret
    ],
)
def test_adf_callback_refused_401_alike_nothing_stored(client, factory, connection, headers):
    make_webhook_connection(name="dbx-prod", kind=Connection.Kind.DATABRICKS, secret="databricks-secret-0123456789")

    response = post_callback(client, REFERENCE_BODY, connection, **headers)

    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong webhook secret"}
    assert not WebhookDelivery.objects.exists()


def test_adf_callback_to_a_databricks_connection_is_400_for_its_secret_holder(client, factory):
    make_webhook_connection(name="dbx-prod", kind=Connection.Kind.DATABRICKS, secret="databricks-secret-0123456789")

    response = post_callback(client, REFERENCE_BODY, "dbx-prod", **{"X-AIMS-Token": "databricks-secret-0123456789"})

    assert response.status_code == 400
    assert response.json()["error"] == "connection dbx-prod is a Databricks workspace: ADF callbacks go to an ADF one"
    assert not WebhookDelivery.objects.exists()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("[]", "body must be a JSON object"),
        ("not json", "body is not valid JSON"),
        ({"message": "Job execution failed.", "dataFactoryName": "adf-contoso-prod"}, "body: names no run"),
        ({"runId": "@{pipeline().RunId}", "pipelineName": "@{pipeline().Pipeline}"}, "body: names no run"),
        ({"RUN_ID": "12345"}, "runId: not an ADF pipeline run id (a GUID)"),
        ({"runId": RUN_ID, "triggerTime": "yesterday"}, "triggerTime: "),
        ({"pipelineName": "p" * 261}, "pipelineName: "),
    ],
    ids=["array", "not-json", "no-run", "all-unresolved", "run-id", "trigger-time", "pipeline-name"],
)
def test_adf_callback_bad_body_400_naming_the_field(client, factory, body, named):
    response = post_callback(client, body, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 400
    assert response.json()["error"].startswith(named)
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.REJECTED
    assert not PipelineRun.objects.exists()
