"""Writes racing each other, each on its own thread and database connection: 100 identical POSTs with one
Idempotency-Key make one resource and one timeline event (the others get that answer again, or a 409 while it
runs); updates with one ETag let one through; opposite merges do not deadlock."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from aimsweb.roles import Role
from incidents.models import IncidentEvent, TicketLink
from tests.api.incident_helpers import post
from tests.incidents.factories import make_incident

CALLERS = 100

WRITES = [
    ("comment", {"text": "Failing over to the replica"}, IncidentEvent.Kind.COMMENTED),
    ("tickets", {"system": "Jira", "key": "OPS-7", "url": "https://acme.atlassian.net/browse/OPS-7"}, "ticket_linked"),
]


def race(calls: list) -> list:
    """Run each call on its own thread and connection, all released at once."""
    start = threading.Barrier(len(calls))

    def run(call):
        try:
            start.wait(timeout=60)
            return call()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize(("action", "body", "kind"), WRITES)
def test_incident_write_100_concurrent_same_idempotency_key_one_resource_one_event(key_client, action, body, kind):
    client, key = key_client(Role.RESPONDER)
    incident = make_incident()
    path = f"/api/v1/incidents/{incident.pk}/{action}"
    authorization = client.defaults["HTTP_AUTHORIZATION"]

    responses = race(
        [lambda: post(Client(HTTP_AUTHORIZATION=authorization), path, body, HTTP_IDEMPOTENCY_KEY="write-once")]
        * CALLERS
    )

    assert {response.status_code for response in responses} <= {201, 409}, [r.content for r in responses]
    created = [response for response in responses if response.status_code == 201]
    originals = [response for response in created if "Idempotent-Replayed" not in response.headers]
    assert len(originals) == 1
    assert all(response.headers["Idempotent-Replayed"] == "true" for response in created if response not in originals)
    assert all(response.content == originals[0].content for response in created)
    busy = [response for response in responses if response.status_code == 409]
    assert all(response.json()["code"] == "idempotency_key_in_use" for response in busy)
    assert incident.events.filter(kind=kind).count() == 1
    assert incident.events.get(kind=kind).actor_label == key.actor_label
    if action == "tickets":
        assert TicketLink.objects.filter(incident=incident).count() == 1

    replay = post(client, path, body, HTTP_IDEMPOTENCY_KEY="write-once")
    other_body = post(
        client, path, {**body, "text": "Something else", "key": "OPS-8"}, HTTP_IDEMPOTENCY_KEY="write-once"
    )

    assert replay.status_code == 201 and replay.content == originals[0].content
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
    assert incident.events.filter(kind=kind).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_incident_update_10_concurrent_with_one_etag_one_wins_rest_412(key_client):
    client, _ = key_client(Role.RESPONDER)
    incident = make_incident(title="Before")
    etag = client.get(f"/api/v1/incidents/{incident.pk}").headers["ETag"]
    authorization = client.defaults["HTTP_AUTHORIZATION"]

    def rename(n: int):
        return lambda: Client(HTTP_AUTHORIZATION=authorization).patch(
            f"/api/v1/incidents/{incident.pk}",
            data=json.dumps({"title": f"Title {n}"}),
            content_type="application/json",
            HTTP_IF_MATCH=etag,
        )

    responses = race([rename(n) for n in range(10)])

    assert sorted(response.status_code for response in responses) == [200] + [412] * 9
    [winner] = [response for response in responses if response.status_code == 200]
    incident.refresh_from_db()
    assert incident.title == winner.json()["title"]
    assert incident.events.filter(kind=IncidentEvent.Kind.UPDATED).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_incident_merge_opposite_merges_at_once_one_wins_without_deadlock(key_client):
    client, _ = key_client(Role.RESPONDER)
    first, second = make_incident(), make_incident()
    authorization = client.defaults["HTTP_AUTHORIZATION"]

    def merge(target, source):
        return lambda: post(
            Client(HTTP_AUTHORIZATION=authorization), f"/api/v1/incidents/{target.pk}/merge", {"sources": [source.pk]}
        )

    responses = race([merge(first, second), merge(second, first)])

    assert sorted(response.status_code for response in responses) == [200, 409], [r.content for r in responses]
    first.refresh_from_db()
    second.refresh_from_db()
    assert sorted([first.status, second.status]) == ["resolved", "triggered"]
