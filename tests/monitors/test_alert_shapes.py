"""Azure Monitor alerts in every shape the common alert schema documents, through the webhook endpoint and the drain:
which are about the connection's factory, and for those the lookup window and pipeline filter, the run stored and
its error. Published samples are in samples/azure_monitor (see its README); the client is stubbed at its boundary
here, and the simulator's alerts go through the real SDK at the end."""

import copy
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitors.models import Connection, PipelineRun, WebhookDelivery
from simulator.alert_shapes import ALERT_SHAPES
from simulator.testing import SimulatorError, run_simulator
from tests.monitors.conftest import connect_to
from tests.monitors.factories import make_webhook_connection
from tests.monitors.fakes import FakeSourceClient, record

SAMPLES = Path(__file__).parent / "samples" / "azure_monitor"
SECRET = "alert-shapes-webhook-secret-0123"
SLACK = timedelta(minutes=2)  # monitors.alerts.ALERT_WINDOW_SLACK
FIRED = datetime(2025, 3, 14, 2, 14, 37, 551239, tzinfo=UTC)  # firedDateTime of every adf-*.json sample
FAILED_AT = datetime(2025, 3, 14, 2, 13, tzinfo=UTC)  # within the look-back of a windowless alert
OTHER_FACTORY = (  # same subscription and group: a dev factory whose alerts share the prod action group
    "/subscriptions/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/resourcegroups/rg-data-prod"
    "/providers/microsoft.datafactory/factories/adf-contoso-dev"
)


def _sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def _at(minute: int, second: int = 0) -> datetime:
    return datetime(2025, 3, 14, 2, minute, second, tzinfo=UTC)


@pytest.fixture
def fake(settings):
    settings.MONITOR_CLIENTS = dict.fromkeys(("adf", "databricks"), "tests.monitors.fakes.FakeSourceClient")
    failed = record("r-orders", pipeline="pl_daily_orders")
    FakeSourceClient.runs = [
        dataclasses.replace(failed, started_at=FAILED_AT, ended_at=FAILED_AT, updated_at=FAILED_AT)
    ]
    FakeSourceClient.calls = []
    return FakeSourceClient


@pytest.fixture
def factory(db) -> Connection:
    """The factory of the adf-*.json samples, its ids cased otherwise than the alerts write them."""
    return make_webhook_connection(
        name="adf-contoso",
        kind=Connection.Kind.ADF,
        secret=SECRET,
        subscription_id="0F1E2D3C-4B5A-6978-8A9B-0C1D2E3F4A5B",
        resource_group="RG-Data-Prod",
        factory_name="adf-contoso-prod",
    )


def _deliver(client, capture, payload: dict, connection: str = "adf-contoso") -> WebhookDelivery:
    """POST the alert as an action group does (secret in the query: it cannot set headers) and drain it."""
    with capture(execute=True):
        response = client.post(
            f"/hooks/azure-monitor/{connection}/?token={SECRET}",
            data=json.dumps(payload),
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    return WebhookDelivery.objects.order_by("-pk").first()


def _lookups(fake) -> list[tuple]:
    return [args for kind, args in fake.calls if kind == "failed"]


def _assert_found(delivery: WebhookDelivery) -> None:
    assert (delivery.status, delivery.error, delivery.run_ids) == (WebhookDelivery.Status.PROCESSED, "", ["r-orders"])
    run = PipelineRun.objects.get(external_run_id="r-orders")
    assert (run.status, run.failed_step, run.error_message) == ("failed", "Copy", "specific error of r-orders")


# --- The documented ADF shapes: the window and the pipeline filter come from the payload ---------------------------


@pytest.mark.django_db
def test_simple_log_alert_with_null_dimensions_and_window_looks_around_its_firing(
    client, factory, fake, django_capture_on_commit_callbacks
):
    delivery = _deliver(client, django_capture_on_commit_callbacks, _sample("adf-simple-log-alert.json"))

    assert _lookups(fake) == [(FIRED - SLACK, FIRED + SLACK, (), None)]  # every pipeline: the alert names none
    _assert_found(delivery)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["adf-activity-failed-runs.json", "adf-trigger-failed-runs.json"])
def test_activity_or_trigger_alert_split_by_name_looks_up_every_pipeline(
    client, factory, fake, django_capture_on_commit_callbacks, name
):
    delivery = _deliver(client, django_capture_on_commit_callbacks, _sample(name))

    # Name is the activity ("Copy orders") or the trigger ("tr_hourly"): filtering on it would find nothing
    assert _lookups(fake) == [(_at(8) - SLACK, FIRED + SLACK, (), None)]
    _assert_found(delivery)


@pytest.mark.django_db
def test_activity_alert_with_pipeline_name_dimension_filters_by_it(
    client, factory, fake, django_capture_on_commit_callbacks
):
    alert = _sample("adf-activity-failed-runs.json")
    alert["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"].append(
        {"name": "PipelineName", "value": "pl_daily_orders"}
    )

    delivery = _deliver(client, django_capture_on_commit_callbacks, alert)

    assert _lookups(fake) == [(_at(8) - SLACK, FIRED + SLACK, ("pl_daily_orders",), None)]
    _assert_found(delivery)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "window_start"),
    [
        ("adf-pipeline-failed-runs.json", _at(8)),  # the PipelineFailedRuns sample: Name is the pipeline
        ("adf-log-analytics-v1.json", _at(5)),  # SearchIntervalStartTimeUtc "3/14/2025 2:05:00 AM"
        ("adf-log-v2.json", _at(8)),  # condition.windowStartTime, allOf[].dimensions PipelineName
    ],
)
def test_alert_window_and_pipeline_come_from_the_payload(
    client, factory, fake, django_capture_on_commit_callbacks, name, window_start
):
    delivery = _deliver(client, django_capture_on_commit_callbacks, _sample(name))

    assert _lookups(fake) == [(window_start - SLACK, FIRED + SLACK, ("pl_daily_orders",), None)]
    _assert_found(delivery)


@pytest.mark.django_db
def test_log_analytics_v1_window_is_read_as_utc(client, factory, fake, django_capture_on_commit_callbacks):
    alert = _sample("adf-log-analytics-v1.json")
    alert["data"]["alertContext"].update(
        SearchIntervalStartTimeUtc="3/14/2025 1:50:00 PM", SearchIntervalEndtimeUtc="3/14/2025 2:20:00 PM"
    )

    delivery = _deliver(client, django_capture_on_commit_callbacks, alert)

    assert _lookups(fake) == [
        (
            datetime(2025, 3, 14, 13, 48, tzinfo=UTC),
            datetime(2025, 3, 14, 14, 22, tzinfo=UTC),
            ("pl_daily_orders",),
            None,
        )
    ]
    assert (delivery.status, delivery.run_ids) == (WebhookDelivery.Status.IGNORED, [])  # 02:13 is not in it


@pytest.mark.django_db
def test_log_analytics_v1_time_that_is_no_date_is_refused_naming_the_field(client, factory, fake):
    alert = _sample("adf-log-analytics-v1.json")
    alert["data"]["alertContext"]["SearchIntervalStartTimeUtc"] = "13/45/2025 2:05:00 AM"

    response = client.post(
        f"/hooks/azure-monitor/adf-contoso/?token={SECRET}", data=json.dumps(alert), content_type="application/json"
    )

    assert response.status_code == 400
    assert "data.alertContext.SearchIntervalStartTimeUtc" in response.content.decode()
    assert not WebhookDelivery.objects.exclude(status=WebhookDelivery.Status.REJECTED).exists()


# --- Routing: only alerts about this factory are looked up ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "target"),
    [
        ("target", OTHER_FACTORY),
        ("target", "/subscriptions/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/resourceGroups/rg-data-prod"),
        ("resource dimension", OTHER_FACTORY.upper()),
    ],
)
def test_alert_about_another_resource_is_ignored_with_reason(
    client, factory, fake, django_capture_on_commit_callbacks, where, target
):
    alert = _sample("adf-log-v2.json")  # a log search alert over the workspace: is about what its dimensions say
    if where == "target":
        alert["data"]["essentials"]["alertTargetIDs"] = [target]
        alert["data"]["essentials"]["configurationItems"] = []
        alert["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"] = []
    else:  # its configuration item is taken from that dimension
        alert["data"]["alertContext"]["condition"]["allOf"][0]["dimensions"][1]["value"] = target
        alert["data"]["essentials"]["configurationItems"] = [target]

    delivery = _deliver(client, django_capture_on_commit_callbacks, alert)

    assert delivery.status == WebhookDelivery.Status.IGNORED
    assert (
        delivery.error
        == f"alert is about {target.lower() if where != 'target' else target}, not factory adf-contoso-prod"
    )
    assert fake.calls == [] and not PipelineRun.objects.exists()


@pytest.mark.django_db
def test_alert_from_another_factory_sharing_the_action_group_is_ignored(
    client, factory, fake, django_capture_on_commit_callbacks
):
    alert = _sample("adf-pipeline-failed-runs.json")
    alert["data"]["essentials"]["alertTargetIDs"] = [OTHER_FACTORY]

    delivery = _deliver(client, django_capture_on_commit_callbacks, alert)

    assert (delivery.status, delivery.error) == (
        WebhookDelivery.Status.IGNORED,
        f"alert is about {OTHER_FACTORY}, not factory adf-contoso-prod",
    )
    assert fake.calls == []


@pytest.mark.django_db
def test_alert_without_target_ids_looks_up_the_connections_factory(
    client, factory, fake, django_capture_on_commit_callbacks
):
    alert = _sample("adf-simple-log-alert.json")
    del alert["data"]["essentials"]["alertTargetIDs"]
    alert["data"]["essentials"]["configurationItems"] = None

    delivery = _deliver(client, django_capture_on_commit_callbacks, alert)

    assert _lookups(fake) == [(FIRED - SLACK, FIRED + SLACK, (), None)]
    _assert_found(delivery)


@pytest.mark.django_db
def test_alert_without_target_ids_on_another_resource_type_is_ignored(
    client, factory, fake, django_capture_on_commit_callbacks
):
    alert = copy.deepcopy(_sample("test-action-metric-static-storage.json"))
    alert["data"]["essentials"]["alertTargetIDs"] = []

    delivery = _deliver(client, django_capture_on_commit_callbacks, alert)

    assert (delivery.status, delivery.error) == (
        WebhookDelivery.Status.IGNORED,
        "alert is about a Microsoft.Storage/storageAccounts resource, not factory adf-contoso-prod",
    )
    assert fake.calls == []


# --- Every published sample ----------------------------------------------------------------------------------------

PUBLISHED = sorted(path.name for path in SAMPLES.glob("*.json") if not path.name.startswith("adf-"))
ADF = sorted(path.name for path in SAMPLES.glob("adf-*.json"))


def test_samples_cover_every_documented_kind():
    assert len(PUBLISHED) >= 5 and len(ADF) >= 5


@pytest.mark.django_db
@pytest.mark.parametrize("name", PUBLISHED)
def test_published_sample_about_no_factory_is_accepted_and_ignored_with_reason(
    client, factory, fake, django_capture_on_commit_callbacks, name
):
    alert = _sample(name)

    delivery = _deliver(client, django_capture_on_commit_callbacks, alert)

    assert delivery.status == WebhookDelivery.Status.IGNORED
    if alert["data"]["essentials"]["monitorCondition"] == "Fired":  # a resolved one is ignored as always, unread
        assert delivery.error.startswith("alert is about ") and delivery.error.endswith(
            ", not factory adf-contoso-prod"
        )
    assert fake.calls == []


@pytest.mark.django_db
@pytest.mark.parametrize("name", ADF)
def test_adf_sample_finds_the_failure(client, factory, fake, django_capture_on_commit_callbacks, name):
    delivery = _deliver(client, django_capture_on_commit_callbacks, _sample(name))

    assert len(_lookups(fake)) == 1
    _assert_found(delivery)


# --- The simulator's alerts, through the real SDK ------------------------------------------------------------------


@pytest.fixture
def alerting_sim():
    with run_simulator("alerts") as sim:
        yield sim


def _shape(alert: dict) -> str:
    """Which of the simulator's shapes an alert is, from its rule name (simulator.alert_shapes)."""
    rule = alert["data"]["essentials"]["alertRule"]
    if rule.endswith("-pipeline-failed"):
        return "other_factory" if rule.startswith("adf-sim-dev-") else "pipeline_metric"
    return rule.removeprefix("adf-sim-").replace("-", "_")


@pytest.mark.django_db
def test_simulator_alerts_in_every_shape_find_the_failure_once_and_ignore_foreign_ones(
    client, alerting_sim, receiver, flow_settings, django_capture_on_commit_callbacks
):
    connections = connect_to(alerting_sim)
    connections["adf-sim"].set_webhook_secret(SECRET)
    connections["adf-sim"].save()
    alerting_sim.set_notify(azure_monitor_url=receiver.url + "/{factory}")
    failure = alerting_sim.fail("adf", "pl_daily_orders")
    received = {_shape(got["json"]): got["json"] for got in receiver.wait_for(len(ALERT_SHAPES))}
    assert sorted(received) == sorted(ALERT_SHAPES)

    outcome = {}
    for shape in ALERT_SHAPES:  # one at a time, in the order of ALERT_SHAPES
        delivery = _deliver(client, django_capture_on_commit_callbacks, received[shape], "adf-sim")
        outcome[shape] = (delivery.status, delivery.error, delivery.run_ids)
    assert outcome.pop("pipeline_metric") == ("processed", "", [failure["run_id"]])  # the first finds it
    vm_status, vm_reason, _ = outcome.pop("vm_metric")
    assert (
        vm_status == "ignored"
        and "/providers/microsoft.compute/virtualmachines/adf-sim-shir, not factory adf-sim" in vm_reason
    )
    assert outcome.pop("other_factory") == (
        "ignored",
        f"alert is about /subscriptions/{connections['adf-sim'].subscription_id}/resourcegroups/rg-sim"
        "/providers/microsoft.datafactory/factories/adf-sim-dev, not factory adf-sim",
        [],
    )
    for shape, (status, error, run_ids) in outcome.items():  # the rest find it known already
        assert status != "failed" and "alert is about" not in error and run_ids == [], shape
    run = PipelineRun.objects.get()
    truth = next(r for r in alerting_sim.truth("adf") if r["run_id"] == failure["run_id"])
    assert (run.external_run_id, run.failed_step, run.error_message) == (
        failure["run_id"],
        truth["failed_step"],
        truth["specific_error"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["activity_metric", "simple_log", "log_v1", "log_v2"])
def test_simulator_alert_shape_alone_finds_the_failure(
    client, alerting_sim, receiver, flow_settings, django_capture_on_commit_callbacks, shape
):
    connection = connect_to(alerting_sim)["adf-sim"]
    connection.set_webhook_secret(SECRET)
    connection.save()
    alerting_sim.set_notify(azure_monitor_url=receiver.url + "/{factory}", alert_shapes=[shape])
    failure = alerting_sim.fail("adf", "pl_daily_orders")
    (got,) = receiver.wait_for(1)

    delivery = _deliver(client, django_capture_on_commit_callbacks, got["json"], "adf-sim")

    assert (delivery.status, delivery.error, delivery.run_ids) == ("processed", "", [failure["run_id"]])
    assert PipelineRun.objects.get().failed_step == failure["failed_step"]


def test_simulator_refuses_an_unknown_alert_shape_and_reset_takes_the_scenarios_shapes():
    with run_simulator("quiet") as sim:
        with pytest.raises(SimulatorError) as refused:
            sim.set_notify(alert_shapes=["pipeline_metric", "carrier_pigeon"])
        assert refused.value.status == 400 and "notify.alert_shapes" in str(refused.value.body)

        sim.reset("alerts")

        assert sim.set_notify()["alert_shapes"] == list(ALERT_SHAPES)
