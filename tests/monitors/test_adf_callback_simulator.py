"""The ADF failure callbacks the simulator sends (every shape pipeline authors write), through the endpoint and the
drain, with the run read through the real azure-mgmt-datafactory SDK from the simulator."""

import pytest

from monitors.clients.base import SourceError
from monitors.models import Connection, PipelineRun, WebhookDelivery
from monitors.services import webhook_deliveries_drain
from simulator.adf_callback import CALLBACK_SHAPES
from simulator.testing import run_simulator
from tests.monitors.adf_callback_helpers import SECRET, deliver_callback, post_callback
from tests.monitors.conftest import connect_to

# --- The simulator's callbacks, through the real SDK ---------------------------------------------------------------


@pytest.fixture
def callback_sim():
    with run_simulator("adf_callbacks") as sim:
        yield sim


def _simulated(sim, receiver, **notify) -> tuple[Connection, dict, dict]:
    """An AIMS connection to the simulated factory, one failure and the callback it sent: (connection, failure,
    callback as received)."""
    connection = connect_to(sim)["adf-sim"]
    connection.set_webhook_secret(SECRET)
    connection.save()
    sim.set_notify(adf_callback_url=receiver.url + "/{factory}", secret=SECRET, **notify)
    failure = sim.fail("adf", "pl_daily_orders")
    (got,) = receiver.wait_for(1)
    return connection, failure, got


@pytest.mark.django_db
@pytest.mark.parametrize("shape", CALLBACK_SHAPES)
def test_simulator_callback_shape_finds_the_failure(
    client, callback_sim, receiver, flow_settings, django_capture_on_commit_callbacks, shape
):
    auth = "token" if shape in ("camel", "no_run_id") else "basic"
    _, failure, got = _simulated(callback_sim, receiver, adf_callback_shapes=[shape], adf_callback_auth=auth)
    sent = {name: got["headers"][name] for name in ("X-AIMS-Token", "Authorization") if name in got["headers"]}
    assert list(sent) == (["X-AIMS-Token"] if auth == "token" else ["Authorization"])

    delivery = deliver_callback(client, django_capture_on_commit_callbacks, got["json"], "adf-sim", **sent)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.error, delivery.run_ids) == ("processed", "", [failure["run_id"]])
    truth = next(run for run in callback_sim.truth("adf") if run["run_id"] == failure["run_id"])
    run = PipelineRun.objects.get()
    assert (run.external_run_id, run.failed_step, run.error_message) == (
        failure["run_id"],
        truth["failed_step"],
        truth["specific_error"],
    )


@pytest.mark.django_db
def test_simulator_callback_for_an_unknown_run_fails_alone(
    client, callback_sim, receiver, flow_settings, django_capture_on_commit_callbacks
):
    _, failure, got = _simulated(callback_sim, receiver, adf_callback_shapes=["camel"], adf_callback_auth="token")
    unknown = {**got["json"], "runId": "00000000-0000-4000-8000-000000000000"}
    for body in (unknown, got["json"]):  # stored first, then drained together
        assert post_callback(client, body, "adf-sim", **{"X-AIMS-Token": SECRET}).status_code == 202

    with django_capture_on_commit_callbacks(execute=True):
        webhook_deliveries_drain()

    refused, found = WebhookDelivery.objects.order_by("pk")
    assert refused.status == "failed" and refused.error.startswith("run not found or refused by the platform")
    assert (found.status, found.run_ids) == ("processed", [failure["run_id"]])


@pytest.mark.django_db
def test_simulator_callback_while_the_platform_is_down_fails(
    client, callback_sim, receiver, flow_settings, django_capture_on_commit_callbacks
):
    _, _, got = _simulated(callback_sim, receiver, adf_callback_shapes=["camel"], adf_callback_auth="token")
    callback_sim.set_faults(rate=1.0, kinds=["503"])

    with pytest.raises(SourceError):  # the drain task fails, so the task queue records it
        deliver_callback(client, django_capture_on_commit_callbacks, got["json"], "adf-sim")

    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and "503" in delivery.error
    assert not PipelineRun.objects.exists()


def _shape(body: dict) -> str:
    """Which of the simulator's shapes a callback is (simulator.adf_callback)."""
    if "RUN_ID" in body:
        return "upper"
    if "runId" not in body:
        return "no_run_id"
    return "unresolved" if body["runId"].startswith("@") else "camel"


def test_simulator_callback_shapes_vary_by_seed_and_reset_takes_the_scenarios_setting(receiver):
    with run_simulator("adf_callbacks") as sim:
        sim.set_notify(adf_callback_url=receiver.url + "/{factory}", secret=SECRET)
        for _ in range(12):
            sim.fail("adf", "pl_daily_orders")
        bodies = [got["json"] for got in receiver.wait_for(12)]
        assert len(bodies) == 12 and all(got["path"] == "/adf-sim" for got in receiver.received)
        assert len({_shape(body) for body in bodies}) >= 3

        sim.reset("quiet")

        assert sim.set_notify()["adf_callback"] is False
        assert sim.set_notify()["adf_callback_url"] == receiver.url + "/{factory}"  # a target survives a reset
