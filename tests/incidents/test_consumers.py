"""The incident list websocket: refused without login or permission, accepted with it, pushed to after commit."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client

from aimsweb.asgi import application
from incidents.realtime import incidents_changed_broadcast
from tests.incidents.factories import make_incident

PATH = "/ws/incidents/"
ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def _session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _communicator(*headers) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, PATH, headers=[ORIGIN, *headers])


def _try_connect(*headers) -> tuple[bool, int | None]:
    async def scenario():
        communicator = WebsocketCommunicator(application, PATH, headers=list(headers))
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_anonymous_refused():
    assert _try_connect(ORIGIN) == (False, 4403)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_user_without_role_refused(no_role_user):
    assert _try_connect(ORIGIN, (b"cookie", _session_cookie(no_role_user))) == (False, 4403)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_foreign_origin_refused(viewer):
    connected, _ = _try_connect((b"origin", b"https://evil.example"), (b"cookie", _session_cookie(viewer)))

    assert connected is False


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_viewer_accepted_and_receives_rows_after_commit(viewer):
    cookie = _session_cookie(viewer)

    def open_incident_and_broadcast() -> int:
        with transaction.atomic():
            incident = make_incident(title="orders_nightly: source timed out")
            incidents_changed_broadcast(incident_ids=[incident.pk])
        return incident.pk

    async def scenario():
        communicator = _communicator((b"cookie", cookie))
        connected, _ = await communicator.connect()
        incident_id = await database_sync_to_async(open_incident_and_broadcast)()
        message = await communicator.receive_from(timeout=5)
        nothing_more = await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return connected, incident_id, message, nothing_more

    connected, incident_id, html, nothing_more = async_to_sync(scenario)()

    assert connected is True
    assert 'id="incident-rows"' in html and 'hx-swap-oob="true"' in html
    assert f'id="incident-{incident_id}"' in html
    assert "orders_nightly: source timed out" in html
    assert nothing_more


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_broadcast_rolled_back_sends_nothing(viewer):
    cookie = _session_cookie(viewer)

    def broadcast_then_roll_back() -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            incidents_changed_broadcast(incident_ids=[1])
            raise RuntimeError("rolled back")

    async def scenario():
        communicator = _communicator((b"cookie", cookie))
        await communicator.connect()
        await database_sync_to_async(broadcast_then_roll_back)()
        quiet = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return quiet

    assert async_to_sync(scenario)() is True
