"""Announcements are sent after commit, merged per transaction, and dropped with a rollback."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from aimsweb.realtime import broadcast_after_commit


def _listen(*groups: str):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    for group in groups:
        async_to_sync(layer.group_add)(group, channel)

    def received() -> list[dict]:
        return async_to_sync(_receive_all)(layer, channel)

    return received


async def _receive_all(layer, channel) -> list[dict]:
    """What arrives until nothing has for 0.2 s (in one event loop: the Redis layer keeps its receive state per
    loop)."""
    messages = []
    while True:
        try:
            async with asyncio.timeout(0.2):
                messages.append(await layer.receive(channel))
        except TimeoutError:
            return messages


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_message_per_group_and_event_for_a_transaction_without_its_rolled_back_savepoint():
    received = _listen("g.list", "g.one")

    with transaction.atomic():
        broadcast_after_commit(group="g.list", event="changed", ids=[3])
        broadcast_after_commit(group="g.list", event="changed", ids=[1, 3])
        broadcast_after_commit(group="g.one", event="changed", ids=[1])
        with pytest.raises(RuntimeError), transaction.atomic():
            broadcast_after_commit(group="g.list", event="changed", ids=[99])
            raise RuntimeError("savepoint rolled back")
        broadcast_after_commit(group="g.list", event="failed", ids=[7])
        assert received() == []  # nothing before the commit

    messages = sorted(received(), key=lambda message: (message["event"], message["ids"]))
    assert messages == [
        {"type": "aims.event", "event": "changed", "ids": [1]},
        {"type": "aims.event", "event": "changed", "ids": [1, 3]},
        {"type": "aims.event", "event": "failed", "ids": [7]},
    ]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_rolled_back_transaction_sends_nothing_now_or_later():
    received = _listen("g.list")

    with pytest.raises(RuntimeError), transaction.atomic():
        broadcast_after_commit(group="g.list", event="changed", ids=[1])
        raise RuntimeError("rolled back")
    broadcast_after_commit(group="g.list", event="changed", ids=[2])  # autocommit: sent at once, alone

    assert received() == [{"type": "aims.event", "event": "changed", "ids": [2]}]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sends_from_sync_code_to_redis_share_one_connection(shared_channel_layer):
    """Task workers announce every triage: a Redis connection (and an event loop) per send would cost more than the
    send. Twenty transactions' announcements all arrive, over the connection the first one opened."""
    import redis

    received = _listen("g.list")
    server = redis.Redis.from_url(shared_channel_layer)
    opened_before = server.info("stats")["total_connections_received"]

    for number in range(20):
        with transaction.atomic():
            broadcast_after_commit(group="g.list", event="changed", ids=[number])

    opened = server.info("stats")["total_connections_received"] - opened_before
    assert sorted(message["ids"][0] for message in received()) == list(range(20))
    assert opened <= 2  # the sender's connection (and the listener's, should it reconnect), not one per send


def test_unreachable_channel_layer_leaves_the_write_standing(
    settings, tmp_path, django_user_model, caplog, django_capture_on_commit_callbacks
):
    """`make run` sets up demo users before its Redis starts: a role change (which tells the user's live pages)
    must still be saved, with the unsent update logged, not raised."""
    from channels.layers import channel_layers

    from aimsweb.roles import Role
    from aimsweb.services import user_set_role

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [f"unix://{tmp_path / 'nobody-listens.sock'}"]},
        }
    }
    channel_layers.backends.clear()
    try:
        user = django_user_model.objects.create_user(username="ada")
        with django_capture_on_commit_callbacks(execute=True) as sent:
            user_set_role(user=user, role=Role.ADMIN)
    finally:
        channel_layers.backends.clear()

    user.refresh_from_db()
    assert user.is_staff and user.groups.filter(name=Role.ADMIN.value).exists()
    assert sent
    assert "live update not sent" in caplog.text
