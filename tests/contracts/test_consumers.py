"""The contract pages' websockets: refused without the permission, 4404 for an unknown contract; accepted, they
catch up at once and re-render after a check's broadcast (after commit)."""

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client

from aimsweb.asgi import application
from contracts.models import DataContract
from contracts.realtime import contract_changed_broadcast
from tests.contracts.page_helpers import make_checked_contract, make_failed_check

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _connect(path: str, *headers) -> tuple[bool, int | None]:
    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])
        connected, code = await communicator.connect()
        await communicator.disconnect()
        return connected, code

    return async_to_sync(scenario)()


def test_ws_contract_page_without_role_refused(no_role_user):
    contract = make_checked_contract()

    assert _connect(f"/ws/contracts/{contract.pk}/", _cookie(no_role_user)) == (False, 4403)


def test_ws_contract_page_unknown_contract_not_found(viewer):
    assert _connect("/ws/contracts/999999/", _cookie(viewer)) == (False, 4404)


def _check_and_broadcast(contract_id: int) -> int:
    with transaction.atomic():
        check = make_failed_check(DataContract.objects.get(pk=contract_id), violations=1)
        contract_changed_broadcast(contract_ids=[contract_id])
    return check.pk


def test_ws_contract_page_viewer_receives_violation_after_check(viewer):
    contract = make_checked_contract()
    cookie = _cookie(viewer)

    async def scenario():
        communicator = WebsocketCommunicator(application, f"/ws/contracts/{contract.pk}/", headers=[ORIGIN, cookie])
        connected, _ = await communicator.connect()
        caught_up = await communicator.receive_from(timeout=5)
        check_id = await database_sync_to_async(_check_and_broadcast)(contract.pk)
        pushed = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return connected, caught_up, check_id, pushed

    connected, caught_up, check_id, pushed = async_to_sync(scenario)()

    assert connected is True
    assert '<section id="contract-violations"' in caught_up and "Not checked yet." in caught_up
    assert 'hx-swap-oob="true"' in pushed and "orders.amount.range0" in pushed
    assert f'id="check-{check_id}"' in pushed and "Check now" not in pushed  # a Viewer's page offers no action


def test_ws_contract_list_viewer_receives_new_status(viewer):
    contract = make_checked_contract()
    cookie = _cookie(viewer)

    async def scenario():
        communicator = WebsocketCommunicator(application, "/ws/contracts/?status=failed", headers=[ORIGIN, cookie])
        connected, _ = await communicator.connect()
        caught_up = await communicator.receive_from(timeout=5)
        await database_sync_to_async(_check_and_broadcast)(contract.pk)
        pushed = await communicator.receive_from(timeout=5)
        await communicator.disconnect()
        return connected, caught_up, pushed

    connected, caught_up, pushed = async_to_sync(scenario)()

    assert connected is True
    assert f'id="contract-{contract.pk}"' not in caught_up  # filtered by the page's own query string
    assert f'id="contract-{contract.pk}"' in pushed and "Failed (violations found)" in pushed
