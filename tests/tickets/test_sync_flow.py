"""The acceptance flow against the simulated Jira and ServiceNow with 30 % faults (5xx, 429, slow answers past the
client's timeout, truncated and malformed bodies, answers lost after the write, doubled webhook deliveries, an API
change calling back): incidents opened concurrently get exactly one ticket each, every incident state change reaches
its ticket, every resolution a person makes on a ticket resolves its incident (webhook, callback or reconcile
poll), comments cross once each way, and AIMS never echoes a ticket's change back.

The suite opens the issue's 1,000 incidents on PostgreSQL (about four minutes) and 200 on SQLite, whose single writer
makes the same run several times slower; AIMS_TICKET_FLOW_INCIDENTS sets another number."""

import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from incidents.services.events import Actor
from incidents.services.incidents import incident_acknowledge, incident_comment, incident_reopen, incident_resolve
from simulator.testing import SimulatorError, run_simulator
from tests.tickets.helpers import INBOUND_SECRET, make_route, open_incident
from tickets.models import TicketRoute, TicketSyncJob
from tickets.services.reconcile import ticket_routes_reconcile
from tickets.services.worker import category_for, ticket_jobs_run

_ON_POSTGRESQL = "postgresql" in settings.DATABASES["default"]["ENGINE"]
INCIDENTS = int(os.environ.get("AIMS_TICKET_FLOW_INCIDENTS", "1000" if _ON_POSTGRESQL else "200"))
FAULTS = {
    "rate": 0.3,
    "kinds": ["429", "500", "503", "slow", "truncated", "malformed", "lost", "dropped"],
    "slow_seconds": 1,
    "retry_after": 1,
    "seed": 18,
    "duplicate_rate": 0.1,
    "servicenow_api_callbacks": 3,
}
OPEN_STATES = (TicketSyncJob.Status.PENDING, TicketSyncJob.Status.FAILED)
CATEGORY_OF_STATE = {"1": "new", "2": "indeterminate", "3": "indeterminate", "6": "done", "7": "done", "8": "done"}


@pytest.fixture
def flow(settings, live_server):
    settings.AIMS_TICKET_TIMEOUT_SECONDS = 0.5  # below the simulator's slow answers (1 s)
    settings.AIMS_TICKET_SETTLE_SECONDS = 1.5
    settings.AIMS_TICKET_BACKOFF_SECONDS = 1
    settings.AIMS_TICKET_BACKOFF_MAX_SECONDS = 30
    settings.AIMS_TICKET_MAX_ATTEMPTS = 6
    settings.AIMS_TICKET_LEASE_SECONDS = 30
    with run_simulator("quiet", faults=FAULTS) as sim:
        yield sim, live_server.url


def _routes(sim, base: str) -> tuple[TicketRoute, TicketRoute]:
    jira = make_route(
        "jira", base_url=sim.jira_url, username=sim.jira_auth[0], categories=["code"], jira_project="DATA"
    )
    jira.set_secret(sim.jira_auth[1])
    jira.save()
    user, password = sim.servicenow_auth
    snow = make_route("servicenow", base_url=sim.servicenow_url, username=user, categories=["transient"])
    snow.set_secret(password)
    snow.save()
    for _ in range(20):  # the webhook registration goes through Jira's (faulted) REST API
        try:
            sim.jira_add_webhook(f"{base}/integrations/jira/{jira.pk}/", secret=INBOUND_SECRET)
            break
        except (SimulatorError, OSError):
            continue
    sim.servicenow_add_callback(f"{base}/integrations/servicenow/{snow.pk}/", "X-AIMS-Token", INBOUND_SECRET)
    return jira, snow


def _in_thread(work):
    def run(*args):
        try:
            return work(*args)
        finally:
            connection.close()

    return run


def _drain(seconds: float = 240) -> None:
    """Run workers (four at once) until no job is left, moving `now` past every backoff; the reconcile poll retries
    jobs that ran out of attempts. Waits in real time only for calls that timed out to settle."""
    deadline, now = time.monotonic() + seconds, timezone.now()
    while time.monotonic() < deadline:
        now += timedelta(hours=1)
        with ThreadPoolExecutor(4) as pool:
            finished = sum(pool.map(_in_thread(lambda _, at=now: ticket_jobs_run(now=at)), range(4)))
        if not TicketSyncJob.objects.filter(status__in=OPEN_STATES).exists():
            return
        if not TicketSyncJob.objects.filter(status=TicketSyncJob.Status.PENDING).exists():
            ticket_routes_reconcile(now=now)
        if not finished:
            time.sleep(0.2)
    raise AssertionError(f"jobs left: {Counter(TicketSyncJob.objects.values_list('status', flat=True))}")


def _tickets(sim, jira: TicketRoute, snow: TicketRoute) -> dict[int, list[dict]]:
    """The simulator's tickets by AIMS incident, found by their markers."""
    found: dict[int, list[dict]] = {}
    for issue in sim.jira_truth():
        for label in issue["labels"]:
            if label.startswith("aims-incident-") and label.endswith(f"-{jira.pk}"):
                found.setdefault(int(label.split("-")[2]), []).append({**issue, "system": "jira"})
    for record in sim.servicenow_truth():
        marker = record.get("correlation_id", "")
        if marker.startswith("aims-incident-") and marker.endswith(f"-{snow.pk}"):
            found.setdefault(int(marker.split("-")[2]), []).append(
                {**record, "system": "servicenow", "category": CATEGORY_OF_STATE[record["state"]]}
            )
    return found


def _echo_writes(ticket: dict) -> list[dict]:
    """API writes repeating what the person's write before them did: a move to the same category, the same
    comment text, or a write that changes nothing."""
    echoes, person = [], None
    for write in ticket["writes"]:
        if write["who"] == "person":
            person = write
            continue
        if write["what"] == "noop":
            echoes.append(write)
        elif person is not None and write["what"] == person["what"]:
            same_category = (
                write["what"] == "transition" and write["summary"].split("(")[-1] == person["summary"].split("(")[-1]
            )
            same_text = write["what"] in ("comment", "work_note") and person["summary"] in write["summary"]
            same_fields = "changes" in write and write["changes"] == person.get("changes")
            if same_category or same_text or same_fields:
                echoes.append(write)
    return echoes


def _person_resolves(sim, ticket: dict) -> None:
    if ticket["system"] == "jira":
        sim.jira_transition(ticket["key"], category="done")
    else:
        sim.servicenow_update(
            ticket["sys_id"], state="6", close_code="Solution provided", close_notes="Fixed by hand", person=None
        )


def _person_comments(sim, ticket: dict, text: str) -> None:
    if ticket["system"] == "jira":
        sim.jira_comment(ticket["key"], text)
    else:
        sim.servicenow_update(ticket["sys_id"], work_notes=text)


def _wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sync_flow_faults_one_ticket_each_changes_both_ways_no_echo(flow, make_user):
    sim, base = flow
    jira, snow = _routes(sim, base)
    person = Actor.of_user(make_user("rory-flow", role=None))

    # 1. Incidents opened concurrently: each open's worker runs in its own thread right after the commit.
    def open_one(n: int) -> int:
        return open_incident(key=f"flow:{n}", category="code" if n % 2 else "transient").incident.pk

    with ThreadPoolExecutor(8) as pool:
        ids = sorted(pool.map(_in_thread(open_one), range(INCIDENTS)))
    _drain()
    tickets = _tickets(sim, jira, snow)
    assert sorted(tickets) == ids
    assert {pk: len(found) for pk, found in tickets.items() if len(found) != 1} == {}

    # 2. State changes both ways, and comments.
    acked, resolved, reopened, by_person, commented = (ids[i::5] for i in range(5))
    for pk in acked:
        incident_acknowledge(incident_id=pk, actor=person)
    for pk in resolved + reopened:
        incident_resolve(incident_id=pk, actor=person, note="fixed in AIMS")
    for pk in commented:
        incident_comment(incident_id=pk, actor=person, text=f"AIMS note on {pk}")
    for pk in by_person:
        _person_resolves(sim, tickets[pk][0])
    for pk in commented:
        _person_comments(sim, tickets[pk][0], f"Person note on {pk}")
    _drain()
    for pk in reopened:
        incident_reopen(incident_id=pk, actor=person)
    _drain()
    # Pushes (webhooks, callbacks) arrive on their own; the reconcile poll repairs those that were lost.
    _wait_for(lambda: not Incident.objects.filter(pk__in=by_person).exclude(status="resolved").exists())
    ticket_routes_reconcile()
    ticket_routes_reconcile()
    _drain()

    incidents = Incident.objects.in_bulk(ids)
    tickets = _tickets(sim, jira, snow)
    assert {pk: len(found) for pk, found in tickets.items() if len(found) != 1} == {} and sorted(tickets) == ids
    assert {pk for pk in by_person if incidents[pk].status != Incident.Status.RESOLVED} == set()
    by_ticket = IncidentEvent.objects.filter(incident_id__in=by_person, kind="resolved", actor_type="ticket")
    assert by_ticket.count() == len(by_person)
    wrong = {
        pk: (incidents[pk].status, found[0]["category"])
        for pk, found in tickets.items()
        if found[0]["category"] != category_for(incidents[pk])
    }
    assert wrong == {}, {
        pk: (
            tickets[pk][0]["writes"],
            list(IncidentEvent.objects.filter(incident_id=pk).values_list("kind", "actor_type", "params")),
        )
        for pk in list(wrong)[:2]
    }
    assert {incidents[pk].status for pk in reopened} == {Incident.Status.TRIGGERED}
    for pk in commented:
        ticket = tickets[pk][0]
        texts = (
            [c["text"] for c in ticket["comments"]]
            if ticket["system"] == "jira"
            else [j["value"] for j in ticket["journal"]]
        )
        assert sum(f"AIMS note on {pk}" in text for text in texts) == 1, texts
        notes = IncidentEvent.objects.filter(incident_id=pk, kind="commented", actor_type="ticket")
        assert list(notes.values_list("note", flat=True)) == [f"Person note on {pk}"]
    echoes = {pk: _echo_writes(found[0]) for pk, found in tickets.items()}
    assert {pk: writes for pk, writes in echoes.items() if writes} == {}
    assert not TicketSyncJob.objects.filter(status__in=OPEN_STATES).exists()
    stats = sim.stats()
    assert sum(stats.get("faults_by_source", {}).values()) > INCIDENTS  # the faults did happen
