"""Flow tests: the real ADF and Databricks SDKs against the simulator, the real database, no stubbed client."""

import pytest

from monitors.clients.adf import AdfClient, _parse_time
from monitors.clients.base import SourceError
from monitors.models import Monitor, PipelineRun
from monitors.services import monitor_poll
from simulator.testing import run_simulator
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


FAULTY = {
    "seed": 11,
    "speed": 0,
    "adf_page_size": 25,
    "history": {"adf_runs": 300, "databricks_runs": 300, "span_seconds": 86400, "active_share": 0.02},
    "faults": {
        "rate": 0.2,
        "kinds": ["429", "500", "503", "slow", "truncated", "malformed"],
        "retry_after": 1,
        "slow_seconds": 2,
        "seed": 5,
    },
}


def _truth_ids(sim) -> tuple[set[str], dict[str, str]]:
    runs = sim.truth("adf") + sim.truth("databricks")
    return {str(run["run_id"]) for run in runs}, {
        str(run["run_id"]): run["specific_error"] for run in runs if run["status"] in {"Failed", "FAILED"}
    }


@pytest.mark.django_db
def test_flow_poll_with_20_percent_faults_stores_every_run_exactly_once(
    flow_settings, django_capture_on_commit_callbacks
):
    flow_settings.SOURCE_TIMEOUT_SECONDS = 1
    with run_simulator("bulk", **FAULTY) as sim:
        connect_to(sim)
        expected_ids, expected_errors = _truth_ids(sim)

        results = _poll_all(django_capture_on_commit_callbacks)
        stats = sim.stats()

    stored = list(PipelineRun.objects.values_list("external_run_id", flat=True))
    assert len(stored) == len(set(stored)) == len(expected_ids) == 600
    assert set(stored) == expected_ids
    assert sum(r.created for r in results) == 600
    errors = dict(PipelineRun.objects.filter(status="failed").values_list("external_run_id", "error_message"))
    assert errors == expected_errors
    injected = stats["faults"]
    assert {"429", "500", "503", "slow", "truncated", "malformed"} <= {kind for kind, n in injected.items() if n}, stats
    assert all(monitor.last_error == "" for monitor in Monitor.objects.all())


@pytest.mark.django_db
def test_flow_failed_poll_keeps_watermark_until_every_page_is_in(
    flow_settings, django_capture_on_commit_callbacks, monkeypatch
):
    flow_settings.SOURCE_MAX_ATTEMPTS = 1
    with run_simulator("bulk", **{**FAULTY, "faults": {"rate": 0.0}}) as sim:
        connect_to(sim)
        monitor = Monitor.objects.get(connection__name="adf-sim")
        truth = [run for run in sim.truth("adf") if run["factory"] == "adf-sim"]
        real_page, pages = AdfClient.list_runs_page, []

        def outage_after_first_page(self, **kwargs):
            pages.append(kwargs["page_token"])
            if len(pages) == 2:  # the platform starts failing once the first page is committed
                sim.set_faults(rate=1.0, kinds=["503"], sources=["adf"])
            return real_page(self, **kwargs)

        monkeypatch.setattr(AdfClient, "list_runs_page", outage_after_first_page)
        with pytest.raises(SourceError), django_capture_on_commit_callbacks(execute=True):
            monitor_poll(monitor_id=monitor.pk)
        monitor.refresh_from_db()
        partial_count = PipelineRun.objects.filter(connection=monitor.connection).count()

        assert monitor.watermark is None and "503" in monitor.last_error
        assert partial_count == FAULTY["adf_page_size"] < len(truth)

        sim.set_faults(rate=0.0)
        with django_capture_on_commit_callbacks(execute=True):
            result = monitor_poll(monitor_id=monitor.pk)

    monitor.refresh_from_db()
    stored = PipelineRun.objects.filter(connection=monitor.connection).values_list("external_run_id", flat=True)
    assert sorted(stored) == sorted(run["run_id"] for run in truth)
    assert result.created == len(truth) - partial_count
    assert monitor.watermark == max(_parse_time(run["last_updated"]) for run in truth)
