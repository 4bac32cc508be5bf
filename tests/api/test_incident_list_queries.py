"""The incident list at a fixed number of queries, whatever the number of rows, their assignees and tickets."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aimsweb.roles import Role
from incidents.models import TicketLink
from tests.incidents.factories import make_incident

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> tuple[int, int]:
    client.get(url)  # the key's last use is written once a minute: not on the measured request
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(captured), len(response.json()["results"])


def test_incident_list_queries_constant_with_1_or_20_incidents(key_client, make_user):
    client, _ = key_client(Role.VIEWER)
    people = [make_user(f"oncall{n}", Role.RESPONDER) for n in range(2)]

    def add(count: int) -> None:
        for n in range(count):
            incident = make_incident(assignee=people[n % 2])
            TicketLink.objects.create(incident=incident, system="Jira", key=f"OPS-{incident.pk}")

    add(1)
    one = queries(client, "/api/v1/incidents")
    add(19)
    twenty = queries(client, "/api/v1/incidents")

    assert (one[1], twenty[1]) == (1, 20)
    assert one[0] == twenty[0] <= 8
