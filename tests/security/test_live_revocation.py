"""A live page's socket is closed when its user logs out or loses access, and receives no push after that
(Finding 19)."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from aimsweb.asgi import application
from aimsweb.roles import Role
from aimsweb.services import user_set_role
from incidents.live import LivePageConsumer
from incidents.realtime import incidents_changed_broadcast
from tests.incidents.factories import make_incident

PATH = "/ws/incidents/"
ORIGIN = (b"origin", b"http://127.0.0.1:8000")
CLOSED_UNAUTHENTICATED = 4401
CLOSED_FORBIDDEN = 4403


def _logged_in_client(user) -> tuple[Client, bytes]:
    client = Client()
    client.force_login(user)
    return client, f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _incident_opened() -> None:
    with transaction.atomic():
        incidents_changed_broadcast(incident_ids=[make_incident(title="after revocation").pk])


def _live_page_after(user, revoke) -> tuple[list[dict], bool]:
    """Open the incident list's socket as `user`, revoke (sync code), announce a change; what the socket got after
    the revocation, and whether a push of the change was among it."""
    client, cookie = _logged_in_client(user)

    async def scenario():
        communicator = WebsocketCommunicator(application, PATH, headers=[ORIGIN, (b"cookie", cookie)])
        connected, _ = await communicator.connect()
        assert connected
        await communicator.receive_from(timeout=5)  # the catch-up on connect
        await database_sync_to_async(revoke)(client)
        await database_sync_to_async(_incident_opened)()
        received = []
        while not await communicator.receive_nothing(timeout=0.8):
            received.append(await communicator.receive_output(timeout=1))
        await communicator.disconnect()
        return received

    received = async_to_sync(scenario)()
    pushed = any("after revocation" in message.get("text", "") for message in received)
    return received, pushed


def _closed_with(received: list[dict]) -> int | None:
    return next((message["code"] for message in received if message["type"] == "websocket.close"), None)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_page_closed_after_logout(viewer):
    """Finding 19: logging out closes the session's live pages (4401); no push reaches them after."""
    received, pushed = _live_page_after(viewer, lambda client: client.post("/logout/"))

    assert _closed_with(received) == CLOSED_UNAUTHENTICATED
    assert not pushed


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_page_closed_after_role_removed(viewer):
    """Finding 19: removing the user's role closes its live pages (4403); no push reaches them after."""
    received, pushed = _live_page_after(viewer, lambda client: viewer.groups.clear())

    assert _closed_with(received) == CLOSED_FORBIDDEN
    assert not pushed


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_page_closed_after_deactivation_or_password_change(viewer, responder):
    """Finding 19: deactivating a user, or changing the password (which ends the sessions), closes the live pages."""

    def deactivate(client):
        viewer.is_active = False
        viewer.save(update_fields=["is_active"])

    def change_password(client):
        responder.set_password("a brand new passphrase 99")
        responder.save(update_fields=["password"])

    for user, revoke in ((viewer, deactivate), (responder, change_password)):
        received, pushed = _live_page_after(user, revoke)
        assert _closed_with(received) == CLOSED_UNAUTHENTICATED, user.username
        assert not pushed, user.username


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_page_rechecks_access_before_push_without_signal(viewer, monkeypatch):
    """Finding 19: a permission lost without any signal (a raw database change) is caught by the check before a
    push; the page is closed instead of pushed to."""
    monkeypatch.setattr(LivePageConsumer, "access_check_interval", 0.0, raising=False)

    def remove_role_silently(client):
        get_user_model().groups.through.objects.filter(user_id=viewer.pk).delete()

    received, pushed = _live_page_after(viewer, remove_role_silently)

    assert _closed_with(received) == CLOSED_FORBIDDEN
    assert not pushed


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_live_page_kept_when_access_still_holds(viewer):
    """Finding 19: a role change that keeps the page's permission keeps the socket, and pushes go on."""
    received, pushed = _live_page_after(viewer, lambda client: user_set_role(user=viewer, role=Role.RESPONDER))

    assert _closed_with(received) is None
    assert pushed
