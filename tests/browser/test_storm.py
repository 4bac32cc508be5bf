"""A storm end to end: the simulator's self-hosted integration runtime goes offline and fails 40 pipelines at once,
each failure alerting a real server; the incident list shows one incident listing the 40 pipelines, its page lists
them, and each notification channel got one page (counted in the simulator's inboxes)."""

import copy
import time

import pytest
from playwright.sync_api import expect

from aimsweb.demo import DEMO_CHANNELS, demo_notifications_ensure
from aimsweb.roles import Role
from incidents.models import Incident, IncidentPipeline
from simulator.scenarios import BUILTIN_SCENARIOS
from simulator.testing import run_simulator
from tests.browser.conftest import assert_no_console_errors, shot
from tests.monitors.conftest import connect_to

SECRET = "browser-storm-secret-0123456789abcdef"
FACTORY = "adf-storm"
PIPELINES = 40
STORM_SECONDS = 180  # 40 alerts, each processed inline by the server (lookups, analysis, triage, pages)

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _scenario() -> dict:
    scenario = copy.deepcopy(BUILTIN_SCENARIOS["quiet"])
    scenario["warehouse_loads"] = []
    scenario["workspaces"] = []
    scenario["factories"] = [
        {
            "resource_group": "rg-sim",
            "factory_name": FACTORY,
            "pipelines": [
                {"name": f"pl_load_{n:02d}", "activities": ["Copy from on-premises", "Merge"], "interval_seconds": 0}
                for n in range(PIPELINES)
            ],
        }
    ]
    return scenario


@pytest.fixture
def storm_sim(monkeypatch):
    """The simulator, started before the server so that the server may post pages to its inbox (a loopback origin
    it allows only when told)."""
    with run_simulator(_scenario()) as sim:
        monkeypatch.setenv("AIMS_OUTBOUND_LOOPBACK_ORIGINS", sim.url)
        yield sim


def test_storm_40_pipelines_one_shared_cause_one_incident_one_page_per_channel(
    storm_sim, settings, make_user, page_for, aims_server
):
    settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [storm_sim.url]
    connection = connect_to(storm_sim)[FACTORY]
    connection.set_webhook_secret(SECRET)
    connection.save()
    demo_notifications_ensure(simulator_url=storm_sim.url)
    storm_sim.set_notify(azure_monitor_url=f"{aims_server.url}/hooks/azure-monitor/{FACTORY}/", secret=SECRET)
    page = page_for(make_user("vera", Role.VIEWER))
    page.goto("/incidents/")
    expect(page.locator("[data-live-indicator]").first).to_have_text("Live")

    started = storm_sim.storm("shir_offline", factory=FACTORY)
    assert started["count"] == PIPELINES

    deadline = time.monotonic() + STORM_SECONDS
    while IncidentPipeline.objects.count() < PIPELINES and time.monotonic() < deadline:
        time.sleep(0.5)
    incident = Incident.objects.get()
    assert IncidentPipeline.objects.filter(incident=incident).count() == PIPELINES
    rows = page.locator("#incident-rows tr[id^='incident-']")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"+{PIPELINES - 1} more · {PIPELINES} pipelines", timeout=30_000)
    shot(page, "storm-incident-list")

    page.goto(f"/incidents/{incident.pk}/")
    expect(page.get_by_role("heading", name=f"Affected pipelines ({PIPELINES})")).to_be_visible()
    expect(page.get_by_test_id("part")).to_have_count(PIPELINES)
    shot(page, "storm-incident")
    assert_no_console_errors(page)

    paged = [inbox for _, _, inbox, _ in DEMO_CHANNELS if inbox != "slack-team-lead"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(storm_sim.inbox(name) for name in paged):
        time.sleep(0.5)
    counts = {name: len(storm_sim.inbox(name)) for name in paged}
    assert counts == dict.fromkeys(paged, 1), counts
