"""Live updates: services announce what changed, after commit; consumers re-render from the database.

Announcements made in one transaction go out together when it commits: the ids are merged per group and event,
and every group is sent to in one pass over the channel layer, so a triage that writes five timeline entries, or
a bulk action on fifty incidents, costs each page one message. Announcements of a rolled-back transaction (or
savepoint) are dropped with it, as Django drops its on-commit callbacks.

From synchronous code (task workers, views) a Redis layer is sent to through one event loop per process, kept in a
thread of its own: `async_to_sync` would start a loop, a thread and a Redis connection for every send.
"""

import asyncio
import logging
import os
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

SEND_TIMEOUT_SECONDS = 10.0

logger = logging.getLogger(__name__)

# Channels maps the "type" of a group message to the consumer method of the same name (dots become underscores).
EVENT_MESSAGE_TYPE = "aims.event"


class _Batch:
    """One on-commit callback holding every announcement made at one savepoint level of a transaction."""

    def __init__(self) -> None:
        self.messages: dict[tuple[str, str], set[int]] = {}

    def add(self, group: str, event: str, ids: Iterable[int]) -> None:
        self.messages.setdefault((group, event), set()).update(ids)

    def __call__(self) -> None:
        layer = get_channel_layer()

        async def send_all() -> None:
            for (group, event), ids in self.messages.items():
                await layer.group_send(group, {"type": EVENT_MESSAGE_TYPE, "event": event, "ids": sorted(ids)})

        try:
            if layer.__class__.__module__.startswith("channels_redis."):
                _SenderLoop.run(send_all)
            else:
                # The in-memory layer's queues belong to the loop of the code that listens (a test's): send from there.
                async_to_sync(send_all)()
        except Exception as exc:  # noqa: BLE001 - the write stands; open pages catch up when they reconnect
            # Best effort: what was announced is committed. A page that missed it shows it on its next push or
            # reconnect, and a live page re-checks its user's access by itself (incidents.live).
            logger.warning("live update not sent (%s: %s): %s", type(exc).__name__, exc, sorted(self.messages))


class _SenderLoop:
    """The process's event loop for sends from synchronous code, started on first use (again in a forked child:
    threads do not survive a fork)."""

    _lock = threading.Lock()
    _loop: asyncio.AbstractEventLoop | None = None
    _pid: int | None = None

    @classmethod
    def run(cls, send: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `send()` on the loop and wait for it; its error, if any, is raised here."""
        future = asyncio.run_coroutine_threadsafe(send(), cls._running())
        future.result(timeout=SEND_TIMEOUT_SECONDS)

    @classmethod
    def _running(cls) -> asyncio.AbstractEventLoop:
        with cls._lock:
            if cls._loop is None or cls._pid != os.getpid():
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="aims-channel-sends", daemon=True).start()
                cls._loop, cls._pid = loop, os.getpid()
            return cls._loop


_unannounced = threading.local()


@contextmanager
def announcements_off() -> Iterator[None]:
    """Announce nothing from this thread meanwhile: for set-up commands that run before any page (or Redis) is up,
    where every send would only fail with a warning."""
    previous = getattr(_unannounced, "active", False)
    _unannounced.active = True
    try:
        yield
    finally:
        _unannounced.active = previous


def broadcast_after_commit(*, group: str, event: str, ids: Iterable[int]) -> None:
    """Send `{event, ids}` to a group once the current transaction commits (at once outside a transaction)."""
    if getattr(_unannounced, "active", False):
        return
    if connection.in_atomic_block:
        # Join the batch already waiting at this savepoint level: it commits or rolls back exactly as ours would.
        level = set(connection.savepoint_ids)
        # Django keeps (savepoints, callback, robust) here; django-stubs still declares the pair it kept before 5.0.
        for savepoints, hook, _robust in connection.run_on_commit:  # type: ignore[misc]
            if isinstance(hook, _Batch) and savepoints == level:
                hook.add(group, event, ids)
                return
    batch = _Batch()
    batch.add(group, event, ids)
    transaction.on_commit(batch)
