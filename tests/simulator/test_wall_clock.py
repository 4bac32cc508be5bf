"""A simulator clock that starts at the wall clock (`make run`'s) never runs ahead of it: runs never "start" or end
in the future, at any speed; the demo scenario keeps the default world with schedules a trigger can describe."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from simulator.scenarios import load_scenario
from simulator.timefmt import US_PER_S, parse_iso
from simulator.world import World, clock


@pytest.fixture
def fake_time(monkeypatch):
    """The wall clock and the monotonic clock the simulator reads, moved by the test."""
    state = SimpleNamespace(wall_us=parse_iso("2026-12-07T23:40:00Z"), mono=1000.0)

    def move(seconds: float) -> None:
        state.wall_us += int(seconds * US_PER_S)
        state.mono += seconds

    monkeypatch.setattr(clock, "real_now_us", lambda: state.wall_us)
    monkeypatch.setattr(clock, "time", SimpleNamespace(monotonic=lambda: state.mono))
    monkeypatch.setattr("simulator.world.state.real_now_us", lambda: state.wall_us)
    state.move = move
    return state


def _reported_times_us(world: World) -> list[int]:
    """Every start, end and last-updated time the simulated APIs report now, ADF and Databricks."""
    times = []
    for run in world.truth("adf")["runs"]:
        times += [parse_iso(run["run_start"]), parse_iso(run["last_updated"])]
        times += [parse_iso(run["run_end"])] if run["run_end"] else []
    for run in world.truth("databricks")["runs"]:
        times += [run["start_time"] * 1000] + ([run["end_time"] * 1000] if run["end_time"] else [])
    return times


@pytest.mark.parametrize("scenario, speed", [("default", 10.0), ("demo", None)])
def test_clock_following_the_wall_clock_never_reports_a_time_ahead_of_it(fake_time, scenario, speed):
    world = World(scenario, speed=speed)
    started = fake_time.wall_us
    seen_runs = 0

    for _ in range(15):  # fifteen minutes of the demo, a minute at a time
        fake_time.move(60)
        world.tick()
        times = _reported_times_us(world)
        assert max(times) <= fake_time.wall_us
        assert world.now_us() <= fake_time.wall_us
        seen_runs = len(times)

    assert world.now_us() == fake_time.wall_us == started + 15 * 60 * US_PER_S
    assert seen_runs > 100  # the history and fifteen minutes of scheduled runs were all checked


def test_clock_with_a_start_in_the_past_still_runs_at_its_speed(fake_time):
    world = World("quiet", clock_start="2026-12-07T22:00:00Z", speed=10.0)

    fake_time.move(60)

    assert world.now_us() == parse_iso("2026-12-07T22:10:00Z")


def test_demo_scenario_is_the_default_world_on_minute_schedules():
    default, demo = load_scenario("default"), load_scenario("demo")

    def schedules(scenario):
        return {
            item["name"]: item
            for group, key in (("factories", "pipelines"), ("workspaces", "jobs"))
            for owner in scenario[group]
            for item in owner[key]
        }

    assert schedules(demo).keys() == schedules(default).keys()
    assert demo["warehouse_loads"] == default["warehouse_loads"]
    assert demo["clock_start"] is None and demo["speed"] == 1.0
    live = [item for item in schedules(demo).values() if not item["paused"]]
    assert all(item["interval_seconds"] % 60 == 0 and item["interval_seconds"] <= 300 for item in live)


def test_frozen_clock_started_now_still_moves_as_far_as_a_test_advances_it(fake_time):
    world = World("quiet")  # speed 0, clock_start null

    world.advance(3600)

    assert world.now_us() == fake_time.wall_us + 3600 * US_PER_S
