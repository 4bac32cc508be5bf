"""A title or severity change made in AIMS reaches the open ticket (Jira: an edit of summary and priority), against
the simulated Jira."""

import pytest

from incidents.services import incident_update
from incidents.services.events import SYSTEM
from simulator.testing import run_simulator
from tests.tickets.helpers import make_route, open_incident
from tickets.services.worker import ticket_jobs_run

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_incident_edit_reaches_its_jira_issue_once():
    with run_simulator("quiet") as sim:
        route = make_route(
            "jira", base_url=sim.jira_url, username=sim.jira_auth[0], priority_map={"critical": "Highest"}
        )
        route.set_secret(sim.jira_auth[1])
        route.save()
        incident = open_incident(severity="high").incident
        ticket_jobs_run()

        incident_update(incident_id=incident.pk, actor=SYSTEM, title="Orders load late again", severity="critical")
        ticket_jobs_run()

        [issue] = sim.jira_truth()
        assert issue["summary"] == "Orders load late again" and issue["priority"] == "Highest"
        edits = [write for write in issue["writes"] if write["what"] == "field"]
        assert len(edits) == 1 and edits[0]["who"] == "api"
        assert incident.tickets.get().sync_state == "synced"
