"""The demo's integrations: `demo_setup` adds a webhook subscriber and Jira / ServiceNow ticket routes on the
simulator, once; a critical incident then reaches all three through the real delivery and sync workers."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from incidents.services.occurrences import OccurrenceReport, occurrence_intake
from simulator.testing import run_simulator
from tickets.models import TicketRoute
from tickets.services.worker import ticket_jobs_run
from webhooks.models import Endpoint
from webhooks.services.delivery import messages_deliver

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def sim(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    with run_simulator("quiet", speed=0) as handle:
        settings.AIMS_SIMULATOR_URL = handle.url
        settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [handle.url]
        yield handle


def test_demo_setup_wires_subscriber_and_ticket_routes_once_and_they_work(sim):
    out = StringIO()
    call_command("demo_setup", stdout=out)
    call_command("demo_setup", stdout=StringIO())  # a second run adds nothing

    assert Endpoint.objects.count() == 1 and TicketRoute.objects.count() == 2
    assert "demo-jira-ops" in out.getvalue()
    incident = occurrence_intake(
        report=OccurrenceReport(
            source="api",
            group_key="demo:orders",
            dedup_key="demo:orders:1",
            title="Orders load failed",
            severity="critical",
            category="code",
            subject="demo:orders",
            subject_label="orders",
            detected_at=timezone.now(),
        )
    ).incident
    messages_deliver()
    ticket_jobs_run()

    issues = [issue for issue in sim.jira_truth() if any(str(incident.pk) in label for label in issue["labels"])]
    assert len(issues) == 1 and issues[0]["key"].startswith("OPS-")
    assert len(sim.servicenow_truth()) == 1
    posted = sim.call("GET", "/_sim/inbox?name=subscriber")["messages"]
    assert posted and posted[-1]["body"]["type"] == "incident.opened"
    assert posted[-1]["headers"]["webhook-id"].startswith("msg_")
    links = {link.system for link in incident.tickets.all()}
    assert len(links) == 2
