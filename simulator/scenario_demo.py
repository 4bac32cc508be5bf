"""The `demo` scenario `make run` starts: the default world (the same factories, pipelines, jobs, tables and
problems, so the demo's AIMS connections and contracts fit it) on the wall clock, at real speed, with schedules
tight enough to show failures, retries, incidents and contract problems within the first minutes.

The default scenario compresses time by running its clock at 10x; a clock that starts now would then run ahead of
the wall clock (1.5 h after ten minutes) and runs would "start" in the future. Here the schedules are compressed
instead: every interval stays a whole number of minutes, so ADF triggers and Databricks cron schedules still
describe them (simulator.schedule_shapes) and AIMS can tell a missed run.
"""

from __future__ import annotations

import copy
from typing import Any

# The default scenario's interval (sim seconds at 10x) -> the demo's (real seconds): about 2.5x denser in real time
# than the default's planned pace, far calmer than its 10x clock.
DEMO_INTERVALS = {180: 60, 300: 120, 600: 180, 900: 300}
# The default's storm (one shared cause failing a factory's pipelines) comes 40 sim minutes in: the demo's after 5.
DEMO_STORM_AFTER_SECONDS = 300
DEMO_DURATION_SECONDS = [10, 60]


def demo_scenario(default: dict[str, Any]) -> dict[str, Any]:
    scenario = copy.deepcopy(default)
    scenario.update(name="demo", speed=1.0, clock_start=None)
    schedules = [
        *(pipeline for factory in scenario["factories"] for pipeline in factory["pipelines"]),
        *(job for workspace in scenario["workspaces"] for job in workspace["jobs"]),
    ]
    for schedule in schedules:
        interval = schedule.get("interval_seconds", 300)
        schedule["interval_seconds"] = DEMO_INTERVALS.get(interval, interval)
        schedule["duration_seconds"] = list(DEMO_DURATION_SECONDS)
    for storm in scenario.get("storms") or []:
        storm["after_seconds"] = min(storm.get("after_seconds", DEMO_STORM_AFTER_SECONDS), DEMO_STORM_AFTER_SECONDS)
    # Contract problems in the demo's tables: the first within two minutes, then every three to six.
    scenario["warehouse_problems"] = {
        **scenario["warehouse_problems"],
        "first_after_seconds": [60, 120],
        "gap_seconds": [180, 360],
    }
    return scenario
