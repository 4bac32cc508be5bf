"""Live pages over websockets: the incident page's consumer checks permissions, catches up at once on connect, and
re-renders the page's live parts (with only the actions the user's role allows) after each committed change."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from aimsweb.asgi import application
from incidents.services import Actor, incident_acknowledge, incident_comment
from tests.incidents.factories import make_analysis, make_incident

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def _cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _incident():
    incident = make_incident(title="orders_nightly: source timed out")
    analysis = make_analysis(run=incident.latest_run, incident=incident)
    incident.analysis = analysis
    incident.save(update_fields=["analysis"])
    return incident


def _session(path: str, user, then=None, expect: int = 1):
    """Connect as `user`, collect the first message, run `then` (sync, committed), collect `expect - 1` more."""

    headers = [ORIGIN] + ([_cookie(user)] if user is not None else [])

    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await communicator.connect()
        messages = []
        if connected:
            messages.append(await communicator.receive_from(timeout=5))
            if then is not None:
                await database_sync_to_async(then)()
            for _ in range(expect - 1):
                messages.append(await communicator.receive_from(timeout=5))
            await communicator.disconnect()
        return connected, code, messages

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_incident_page_refuses_anonymous_no_role_and_unknown(no_role_user, viewer):
    incident = _incident()
    assert _session(f"/ws/incidents/{incident.pk}/", None)[:2] == (False, 4403)
    assert _session(f"/ws/incidents/{incident.pk}/", no_role_user)[:2] == (False, 4403)
    assert _session("/ws/incidents/999999/", viewer)[:2] == (False, 4404)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_incident_page_catches_up_on_connect_with_role_aware_actions(viewer, responder):
    incident = _incident()
    path = f"/ws/incidents/{incident.pk}/"

    _, _, (as_viewer,) = _session(path, viewer)
    _, _, (as_responder,) = _session(path, responder)

    for html in (as_viewer, as_responder):
        assert 'id="incident-state" hx-swap-oob="true"' in html
        assert 'id="incident-events"' in html and 'id="incident-runs"' in html
        assert "orders_nightly: source timed out" in html
    assert "/acknowledge/" not in as_viewer and "Retry now" not in as_viewer
    assert f"/incidents/{incident.pk}/acknowledge/" in as_responder


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_incident_page_pushes_status_and_timeline_after_commit(viewer, responder):
    incident = _incident()

    def act():
        incident_acknowledge(incident_id=incident.pk, actor=Actor.of_user(responder))
        incident_comment(incident_id=incident.pk, actor=Actor.of_user(responder), text="Looking at the gateway")

    connected, _, messages = _session(f"/ws/incidents/{incident.pk}/", viewer, then=act, expect=2)

    assert connected
    first, update = messages
    assert ">Triggered<" in first and ">Acknowledged<" in update
    assert "Looking at the gateway" in update and "Looking at the gateway" not in first
