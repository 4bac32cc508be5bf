"""A forked child (a django-q2 worker) must never share the parent's database connection or pool."""

import multiprocessing

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="psycopg's pool exists on PostgreSQL only"),
]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _child(queue) -> None:
    try:
        pids = {_backend_pid() for _ in range(20)}
        queue.put(("ok", sorted(pids)))
    except Exception as exc:  # noqa: BLE001  (reported to the parent, which fails the test with it)
        queue.put(("error", repr(exc)))


def test_forked_child_opens_its_own_connection_and_pool():
    assert connection.pool is not None, "PostgreSQL runs with psycopg's pool"
    parent_pid = _backend_pid()
    parent_pool = connection.pool

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child, args=(queue,))
    child.start()
    # Sequential on purpose: were the socket shared, concurrent use would hang instead of failing.
    status, payload = queue.get(timeout=30)
    child.join(timeout=30)

    assert status == "ok", payload
    assert parent_pid not in payload
    assert child.exitcode == 0
    assert connection.pool is parent_pool, "the parent's pool is left alone"
    assert _backend_pid() == parent_pid
