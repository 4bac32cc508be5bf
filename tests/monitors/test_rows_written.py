"""The rows a succeeded run wrote, where the platform reports them: ADF's Copy activities (`rowsCopied` in their
output, read through the SDK from the simulator); Databricks' Jobs API reports none."""

from datetime import datetime, timedelta

import pytest

from monitors.clients import client_for
from simulator.testing import run_simulator
from tests.monitors.conftest import connect_to

CLOCK_START = "2025-03-14T00:00:00Z"


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")[:26] + "+00:00")


@pytest.mark.django_db
def test_rows_written_sum_the_succeeded_copy_activities_of_an_adf_run(flow_settings):
    with run_simulator("default", clock_start=CLOCK_START, speed=0) as sim:
        connections = connect_to(sim)
        sim.advance(3600)
        succeeded = [
            r for r in sim.truth("adf") if r["pipeline"] == "pl_inventory_snapshot" and r["status"] == "Succeeded"
        ]
        run = succeeded[0]
        client = client_for(connections["adf-sim"])
        started, ended = _at(run["run_start"]), _at(run["run_end"])

        written = client.rows_written(run["run_id"], started_at=started, ended_at=ended)

        activities = sim.adf_client().activity_runs.query_by_pipeline_run(
            "rg-sim",
            "adf-sim",
            run["run_id"],
            {"lastUpdatedAfter": started - timedelta(hours=1), "lastUpdatedBefore": ended + timedelta(days=1)},
        )
        copies = [a.output["rowsCopied"] for a in activities.value if a.activity_type == "Copy"]
        assert copies and written == sum(copies)
        dbx = client_for(connections["sim-databricks-1"])
        assert dbx.rows_written("1", started_at=started, ended_at=ended) is None
