"""The live-push bench's world: the simulated platforms, AIMS's connections to them, and the background failures."""

import random
import threading
import time

SECRET = "bench-live-webhook-secret-0123456789"
PROBE_JOB = "bench_live_probe"
DATABRICKS_CONNECTION = "bench-live-dbx"
CONNECTION_PREFIX = "bench-live-"


def scenario() -> dict:
    """The quiet scenario (no schedule: only the failures the bench makes) with one more job kept for the probes,
    and a clock that runs at real speed, so failures are spread in time as they would be on the platforms."""
    import copy

    from simulator.scenarios import BUILTIN_SCENARIOS

    scenario = copy.deepcopy(BUILTIN_SCENARIOS["quiet"])
    scenario["speed"] = 1.0
    scenario["workspaces"][0]["jobs"].append(
        {"name": PROBE_JOB, "tasks": ["ingest", "transform"], "interval_seconds": 0}
    )
    return scenario


def connect(sim) -> None:
    """AIMS connections to the simulator, made afresh, each accepting webhooks with SECRET: one per factory, named
    after it (the simulator's alert URL holds {factory}), and one for the workspace."""
    from incidents.models import Incident
    from monitors.models import Connection

    # A fresh start: nothing an earlier run of this bench left (its incidents would head the list, its runs and
    # pipeline coverage would shape the lookups).
    Incident.objects.filter(connection__name__startswith=CONNECTION_PREFIX).delete()
    Connection.objects.filter(name__startswith=CONNECTION_PREFIX).delete()
    scenario = sim.scenario()
    for factory in scenario["factories"]:
        connection, _ = Connection.objects.update_or_create(
            name=f"{CONNECTION_PREFIX}{factory['factory_name']}",
            defaults={
                "kind": Connection.Kind.ADF,
                "is_simulator": True,
                "enabled": True,
                "host": sim.url,
                "auth_method": Connection.AuthMethod.STATIC_TOKEN,
                "subscription_id": factory["subscription_id"],
                "resource_group": factory["resource_group"],
                "factory_name": factory["factory_name"],
            },
        )
        connection.set_webhook_secret(SECRET)
        connection.save()
    connection, _ = Connection.objects.update_or_create(
        name=DATABRICKS_CONNECTION,
        defaults={
            "kind": Connection.Kind.DATABRICKS,
            "is_simulator": True,
            "enabled": True,
            "host": sim.url,
            "auth_method": Connection.AuthMethod.PAT,
        },
    )
    connection.set_secret(scenario["workspaces"][0]["token"])
    connection.set_webhook_secret(SECRET)
    connection.save()


def background_targets(sim) -> list[tuple[str, str]]:
    """Every simulated pipeline and job but the probe's, as (source, name)."""
    scenario = sim.scenario()
    pipelines = [("adf", p["name"]) for factory in scenario["factories"] for p in factory["pipelines"]]
    jobs = [("databricks", j["name"]) for ws in scenario["workspaces"] for j in ws["jobs"] if j["name"] != PROBE_JOB]
    return pipelines + jobs


class BackgroundFailures(threading.Thread):
    """Fails random background pipelines and jobs at a steady rate (the simulator notifies AIMS of each)."""

    def __init__(self, sim, targets: list[tuple[str, str]], per_second: float) -> None:
        super().__init__(name="background-failures", daemon=True)
        self.sim, self.targets, self.interval = sim, targets, 1 / per_second
        self.stopping = threading.Event()
        self.injected = self.errors = 0
        self.last_error = ""
        self.started_at = self.stopped_at = 0.0

    def run(self) -> None:
        rng = random.Random(7)
        self.started_at = next_at = time.perf_counter()
        while not self.stopping.is_set():
            source, name = rng.choice(self.targets)
            try:
                self.sim.fail(source, name)
                self.injected += 1
            except Exception as exc:  # noqa: BLE001 - counted and reported; the load goes on
                self.errors += 1
                self.last_error = repr(exc)
            next_at += self.interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                self.stopping.wait(delay)
            elif delay < -1:
                next_at = time.perf_counter()  # over a second behind: carry on at the rate, no burst
        self.stopped_at = time.perf_counter()

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)

    @property
    def seconds(self) -> float:
        return (self.stopped_at or time.perf_counter()) - self.started_at
