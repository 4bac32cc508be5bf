"""The incident list page's shape (escaping, boosted links, htmx partials, what each role is offered, rows kept
fresh) and the live part a websocket pushes for the page's own filters."""

import re

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client

from aimsweb.asgi import application
from aimsweb.choices import Severity
from incidents.models import Incident
from incidents.realtime import incidents_changed_broadcast
from tests.incidents.factories import make_incident
from tests.incidents.incident_list_helpers import HTMX, URL, ago, page, row_ids
from tests.monitors.factories import make_run

# --- Page shape ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_incident_list_escapes_title_and_error(viewer_client):
    run = make_run(error_message="<img src=x onerror=alert(2)>")
    make_incident(run, title="<script>alert(1)</script>")

    html = page(viewer_client)

    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


@pytest.mark.django_db
def test_incident_list_page_and_live_part_leak_no_template_syntax(responder, responder_client):
    make_incident()

    html = page(responder_client)

    assert "{#" not in html and "{%" not in html and "{{" not in html


@pytest.mark.django_db
def test_incident_list_row_links_not_boosted_but_sort_and_page_links_are(viewer_client):
    # A boosted link to an incident would get the incident page's partial in place of the whole page.
    make_incident()

    html = page(viewer_client)

    assert '<table class="list incident-table">' in html and '<tbody id="incident-rows" data-shortcut-rows>' in html
    assert (
        '<thead id="incident-head" hx-boost="true">' in html and '<tfoot id="incident-pages" hx-boost="true">' in html
    )


@pytest.mark.django_db
def test_incident_list_htmx_filter_returns_results_partial_and_canonical_url(viewer_client):
    make_incident(title="partial please", severity=Severity.HIGH)

    response = viewer_client.get(f"{URL}?q=partial&status=open&severity=high&connection=&sort=-last_seen", headers=HTMX)
    html = response.content.decode()

    assert html.lstrip().startswith('<div id="incident-results"') and "<html" not in html
    assert "partial please" in html and 'id="incident-filters"' not in html
    assert response["HX-Push-Url"] == "/incidents/?severity=high&q=partial"


@pytest.mark.django_db
def test_incident_list_boosted_link_gets_whole_page(viewer_client):
    html = page(viewer_client, "sort=-severity", **HTMX, **{"HX-Boosted": "true"})

    assert "<html" in html and 'id="incident-filters"' in html


@pytest.mark.django_db
def test_incident_list_viewer_gets_no_checkboxes_or_bulk_buttons(viewer_client):
    incident = make_incident()

    html = page(viewer_client)

    assert f'id="pick-{incident.pk}"' not in html and 'id="incident-bulk"' not in html


@pytest.mark.django_db
def test_incident_list_responder_gets_checkboxes_and_bulk_buttons(responder_client):
    incident = make_incident()

    html = page(responder_client, "severity=high")

    assert f'name="ids" value="{incident.pk}" form="incident-bulk" id="pick-{incident.pk}"' in html
    assert 'id="incident-select-all"' in html
    assert 'value="acknowledge">Acknowledge</button>' in html and 'value="resolve"' in html
    assert '<input type="hidden" name="next" value="/incidents/?severity=high">' in html


@pytest.mark.django_db
def test_incident_list_anonymous_redirected_to_login(client):
    response = client.get(URL)

    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.django_db
def test_incident_list_row_shows_what_changed_since_it_was_last_rendered(viewer_client, responder_client):
    """Rows are rendered once and kept (keyed by what they show): every change a row shows renders it again."""
    incident = make_incident(last_seen_at=ago(3))
    row = re.compile(rf'<tr id="incident-{incident.pk}">.*?</tr>', re.S)
    assert "3 min ago" in row.search(page(viewer_client)).group()
    assert 'name="ids"' in row.search(page(responder_client)).group()  # the same row, with a Responder's checkbox
    assert 'name="ids"' not in row.search(page(viewer_client)).group()

    incident.pipeline.name = "renamed_pipeline"
    incident.pipeline.save()
    assert "renamed_pipeline" in row.search(page(viewer_client)).group()

    incident.title = "nightly_load: a sharper title from the run's detail"
    incident.save()
    assert "a sharper title" in row.search(page(viewer_client)).group()

    incident.status = Incident.Status.ACKNOWLEDGED
    incident.save()
    assert "Acknowledged" in row.search(page(viewer_client)).group()

    Incident.objects.filter(pk=incident.pk).update(last_seen_at=ago(30), updated_at=ago(0))
    assert "30 min ago" in row.search(page(viewer_client)).group()


# --- Live updates -------------------------------------------------------------------------------------------------


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_pushes_live_part_for_the_page_filters(responder):
    cookie = _session_cookie(responder)
    high = make_incident(severity=Severity.HIGH, title="high one")
    make_incident(severity=Severity.LOW, title="low one")

    def acknowledge_and_broadcast() -> None:
        with transaction.atomic():
            Incident.objects.filter(pk=high.pk).update(status=Incident.Status.ACKNOWLEDGED)
            incidents_changed_broadcast(incident_ids=[high.pk])

    async def scenario():
        communicator = WebsocketCommunicator(
            application,
            "/ws/incidents/?severity=high",
            headers=[(b"origin", b"http://127.0.0.1:8000"), (b"cookie", cookie)],
        )
        connected, _ = await communicator.connect()
        caught_up = await communicator.receive_from(timeout=5)
        await database_sync_to_async(acknowledge_and_broadcast)()
        message = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return connected, caught_up, message

    connected, caught_up, html = async_to_sync(scenario)()

    assert connected is True
    assert row_ids(caught_up) == [high.pk] and "Acknowledged <strong>0</strong>" in caught_up
    assert row_ids(html) == [high.pk] and "low one" not in html
    for element in ("caption", "thead", "tbody", "tfoot"):
        assert re.search(rf'<{element} id="incident-[a-z]+"( hx-boost="true")? hx-swap-oob="true"', html)
    # The counters moved, and the ticked boxes survive the swap.
    assert "Acknowledged <strong>1</strong>" in html
    assert f'id="pick-{high.pk}" aria-label="Select incident #{high.pk}" hx-preserve' in html
    assert html.lstrip().startswith("<caption")  # table parts first, so the browser parses them as such
