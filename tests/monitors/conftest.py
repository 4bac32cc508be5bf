"""Fixtures for flow tests: the simulator, and AIMS connections and monitors pointing at it."""

import pytest

from monitors.models import Connection, Monitor
from simulator.testing import run_simulator
from tests.simulator.conftest import Receiver


def connect_to(sim) -> dict[str, Connection]:
    """One AIMS connection (and a watch-everything monitor) per simulated factory and workspace."""
    scenario = sim.scenario()
    connections = {}
    for factory in scenario["factories"]:
        connections[factory["factory_name"]] = Connection.objects.create(
            name=factory["factory_name"],
            kind=Connection.Kind.ADF,
            is_simulator=True,
            host=sim.url,
            auth_method=Connection.AuthMethod.STATIC_TOKEN,
            subscription_id=factory["subscription_id"],
            resource_group=factory["resource_group"],
            factory_name=factory["factory_name"],
        )
    for number, workspace in enumerate(scenario["workspaces"], start=1):
        connection = Connection(
            name=f"sim-databricks-{number}",
            kind=Connection.Kind.DATABRICKS,
            is_simulator=True,
            host=sim.url,
            auth_method=Connection.AuthMethod.PAT,
        )
        connection.set_secret(workspace["token"])
        connection.save()
        connections[connection.name] = connection
    for connection in connections.values():
        Monitor.objects.create(connection=connection, name="all")
    return connections


@pytest.fixture
def bulk_sim():
    """10,000 ADF and 10,000 Databricks runs over three days, on a stopped clock so the truth holds still."""
    with run_simulator("bulk") as sim:
        sim.set_speed(0)
        yield sim


@pytest.fixture
def receiver():
    """A local endpoint that records what the simulator sends (alerts, callbacks)."""
    listening = Receiver()
    yield listening
    listening.close()
