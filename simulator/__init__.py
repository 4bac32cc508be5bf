"""AIMS pipeline-platform simulator.

A local, deterministic stand-in for the Azure Data Factory and Databricks Jobs REST APIs (plus an
OpenAI-compatible chat endpoint) that the real, unmodified SDKs can talk to over HTTP on 127.0.0.1.
Deliberately independent of Django so it can run as a separate process or inside a test.
"""

from simulator.scenarios import BUILTIN_SCENARIOS, load_scenario
from simulator.world import World

__all__ = ["BUILTIN_SCENARIOS", "World", "load_scenario"]
