"""Storms: one cause (an integration runtime offline, an expired service principal, a workspace outage) fails many
pipelines or jobs at once with the same error, started by /_sim/storm or on a scenario's schedule."""

from __future__ import annotations

import pytest

from simulator.storm_causes import SHIR_OFFLINE, STORM_CAUSES
from simulator.testing import SimulatorError, run_simulator
from simulator.world import World
from tests.simulator.conftest import CLOCK_START

ANALYTICS = {"pl_clickstream_ingest", "pl_marketing_attribution", "pl_ml_features", "pl_gdpr_purge"}


def test_default_scenario_storm_fails_the_analytics_factory_once_after_its_delay():
    world = World("default", clock_start=CLOCK_START, speed=0)
    world.advance(2399)
    assert not [run for run in world.truth("adf")["runs"] if run["corpus_id"] == "storm-shir-offline"]

    world.advance(2)
    world.advance(600)

    storm = [run for run in world.truth("adf")["runs"] if run["corpus_id"] == "storm-shir-offline"]
    assert {run["pipeline"] for run in storm} == ANALYTICS and len(storm) == 4
    assert {run["status"] for run in storm} == {"Failed"}
    assert {run["specific_error"] for run in storm} == {SHIR_OFFLINE}


def test_sim_storm_fails_the_named_pipelines_and_every_job_of_a_workspace():
    with run_simulator("quiet") as sim:
        adf = sim.storm("sp_expired", pipelines=["pl_daily_orders", "pl_finance_export"])
        dbx = sim.storm("workspace_outage")

        assert adf["count"] == 2 and {run["pipeline"] for run in adf["runs"]} == {
            "pl_daily_orders",
            "pl_finance_export",
        }
        assert dbx["source"] == "databricks" and dbx["count"] == 5
        failed = [run for run in sim.truth("databricks") if run["corpus_id"] == "storm-workspace-outage"]
        assert len(failed) == 5 and "AADSTS7000222" in STORM_CAUSES["sp_expired"].error_message


@pytest.mark.parametrize("body", [{"cause": "volcano"}, {"cause": "shir_offline", "pipelines": "all"}])
def test_sim_storm_refuses_an_unknown_cause_or_bad_targets(body):
    with run_simulator("quiet") as sim:
        with pytest.raises(SimulatorError) as refused:
            sim.call("POST", "/_sim/storm", body)
        assert refused.value.status == 400


def test_scenario_storms_are_checked():
    with pytest.raises(ValueError, match="cause"):
        World({"name": "x", "factories": [], "workspaces": [], "storms": [{"cause": "meteor"}]})


def test_demo_scenario_storm_comes_within_ten_minutes_of_the_start():
    from simulator.scenarios import BUILTIN_SCENARIOS

    demo, default = BUILTIN_SCENARIOS["demo"], BUILTIN_SCENARIOS["default"]

    assert demo["speed"] == 1.0 and demo["storms"]
    assert all(storm["after_seconds"] <= 600 for storm in demo["storms"])
    assert default["storms"][0]["after_seconds"] == 2400  # the default's own pace is left alone
