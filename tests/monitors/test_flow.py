"""Flow tests: the real ADF and Databricks SDKs against the simulator, the real database, no stubbed client."""

import pytest

from monitors.models import Monitor, PipelineRun
from monitors.services import monitor_poll
from tests.monitors.conftest import connect_to


def _poll_all(capture) -> list:
    results = []
    for monitor in Monitor.objects.order_by("pk"):
        with capture(execute=True):
            results.append(monitor_poll(monitor_id=monitor.pk))
    return results


@pytest.mark.django_db
def test_flow_bulk_poll_stores_every_run_once_with_specific_errors(
    bulk_sim, flow_settings, django_capture_on_commit_callbacks
):
    connections = connect_to(bulk_sim)
    adf_truth, dbx_truth = bulk_sim.truth("adf"), bulk_sim.truth("databricks")

    first = _poll_all(django_capture_on_commit_callbacks)
    second = _poll_all(django_capture_on_commit_callbacks)

    adf_ids = set(PipelineRun.objects.filter(connection__kind="adf").values_list("external_run_id", flat=True))
    dbx_ids = set(PipelineRun.objects.filter(connection__kind="databricks").values_list("external_run_id", flat=True))
    assert len(adf_truth) == len(dbx_truth) == 10_000
    assert adf_ids == {run["run_id"] for run in adf_truth}
    assert dbx_ids == {str(run["run_id"]) for run in dbx_truth}
    assert PipelineRun.objects.count() == 20_000
    assert sum(result.created for result in first) == 20_000
    assert sum(result.created for result in second) == 0
    assert all(result.pages > 1 for result in first)

    stored = {
        (run.connection.name, run.external_run_id): run
        for run in PipelineRun.objects.filter(status=PipelineRun.Status.FAILED).select_related("connection")
    }
    failed_truth = [(run["factory"], run["run_id"], run) for run in adf_truth if run["status"] == "Failed"]
    failed_truth += [("sim-databricks-1", str(run["run_id"]), run) for run in dbx_truth if run["status"] == "FAILED"]
    assert len(stored) == len(failed_truth) > 5_000
    mismatches = [
        (key, stored[(key, run_id)].error_message[:80], run["specific_error"][:80])
        for key, run_id, run in failed_truth
        if stored[(key, run_id)].error_message != run["specific_error"]
        or stored[(key, run_id)].failed_step != run["failed_step"]
    ]
    assert mismatches == []
    assert set(connections) == {"adf-sim", "adf-sim-analytics", "sim-databricks-1"}
