"""The incident list websocket: refused without login or permission; accepted with it, it catches up at once and
is pushed to after commit, once for a burst of changes."""

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
        caught_up = await communicator.receive_from(timeout=5)
        incident_id = await database_sync_to_async(open_incident_and_broadcast)()
        message = await communicator.receive_from(timeout=5)
        nothing_more = await communicator.receive_nothing(timeout=0.5)
        await communicator.disconnect()
        return connected, caught_up, incident_id, message, nothing_more

    connected, caught_up, incident_id, html, nothing_more = async_to_sync(scenario)()

    assert connected is True
    assert 'id="incident-rows"' in caught_up and 'id="incident-' + str(incident_id) + '"' not in caught_up
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
        await communicator.receive_from(timeout=5)  # the catch-up on connect
        await database_sync_to_async(broadcast_then_roll_back)()
        quiet = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return quiet

    assert async_to_sync(scenario)() is True


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_reconnect_catches_up_and_a_burst_is_one_push(viewer):
    cookie = _session_cookie(viewer)

    def open_incidents(count: int) -> list[int]:
        ids = []
        for number in range(count):
            with transaction.atomic():
                incident = make_incident(title=f"burst {number}")
                incidents_changed_broadcast(incident_ids=[incident.pk])
            ids.append(incident.pk)
        return ids

    async def scenario():
        # Changes made while no socket was open are on the first message of the next connection.
        missed = await database_sync_to_async(open_incidents)(1)
        communicator = _communicator((b"cookie", cookie))
        await communicator.connect()
        caught_up = await communicator.receive_from(timeout=5)
        burst = await database_sync_to_async(open_incidents)(20)
        pushes = [await communicator.receive_from(timeout=5)]
        while not await communicator.receive_nothing(timeout=0.6):
            pushes.append(await communicator.receive_from(timeout=5))
        await communicator.disconnect()
        return missed, caught_up, burst, pushes

    missed, caught_up, burst, pushes = async_to_sync(scenario)()

    assert f'id="incident-{missed[0]}"' in caught_up
    assert len(pushes) <= 3, f"20 changes made {len(pushes)} pushes"
    assert all(f'id="incident-{incident_id}"' in pushes[-1] for incident_id in burst)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_incidents_change_after_a_quiet_spell_is_pushed_at_once_then_paced(viewer, monkeypatch):
    """The first change after a quiet spell goes out at once; one right behind it waits for the interval."""
    import asyncio

    from incidents.live import IncidentListConsumer

    monkeypatch.setattr(IncidentListConsumer, "push_interval", 1.5)
    cookie = _session_cookie(viewer)

    def open_incident(title: str) -> int:
        with transaction.atomic():
            incident = make_incident(title=title)
            incidents_changed_broadcast(incident_ids=[incident.pk])
        return incident.pk

    async def scenario():
        communicator = _communicator((b"cookie", cookie))
        await communicator.connect()
        await communicator.receive_from(timeout=5)  # the catch-up on connect
        await asyncio.sleep(1.6)  # longer than the interval
        first = await database_sync_to_async(open_incident)("after a quiet spell")
        at_once = await communicator.receive_from(timeout=1.0)  # well inside the interval
        second = await database_sync_to_async(open_incident)("right behind it")
        held = await communicator.receive_nothing(timeout=0.8)
        paced = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return first, at_once, second, held, paced

    first, at_once, second, held, paced = async_to_sync(scenario)()

    assert f'id="incident-{first}"' in at_once
    assert held is True
    assert f'id="incident-{second}"' in paced
