"""Live updates: services announce what changed, after commit; consumers re-render from the database."""

from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

# Channels maps the "type" of a group message to the consumer method of the same name (dots become underscores).
EVENT_MESSAGE_TYPE = "aims.event"


def broadcast_after_commit(*, group: str, event: str, ids: Iterable[int]) -> None:
    """Send `{event, ids}` to a group once the current transaction commits (at once outside a transaction)."""
    message = {"type": EVENT_MESSAGE_TYPE, "event": event, "ids": sorted(set(ids))}
    transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)(group, message))
