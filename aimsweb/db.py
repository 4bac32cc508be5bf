"""Database connections across ``fork``.

django-q2 forks its workers (and their replacements, after ``Q_RECYCLE`` tasks) from a parent that has
already used the database. With psycopg's pool the parent's pool, and the connections in it, are copied into
the child: both processes would then speak on the same sockets and read each other's results. The child
must start with no connection and a pool of its own.

The inherited objects are kept referenced, never closed: closing (or garbage-collecting) a libpq connection
sends a Terminate message over the socket the parent still uses. (multiprocessing children leave through
``os._exit``, so no finaliser runs at their exit either.)
"""

from __future__ import annotations

import os

from django.db import connections

_inherited: list[object] = []


def connections_forget_after_fork() -> None:
    """In a forked child: drop every database connection and pool inherited from the parent."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None:
            _inherited.append(conn.connection)
            conn.connection = None
        conn.in_atomic_block = False
        conn.savepoint_ids = []
        conn.needs_rollback = False
    try:
        from django.db.backends.postgresql.base import DatabaseWrapper
    except ImportError:  # psycopg not installed: no pools either
        return
    # Django's registry of pools (5.1+, private) is missing from django-stubs.
    pools = DatabaseWrapper._connection_pools  # type: ignore[attr-defined]
    _inherited.extend(pools.values())
    pools.clear()


_registered = False


def fork_safety_install() -> None:
    """Register :func:`connections_forget_after_fork` to run in every child forked from now on (once)."""
    global _registered
    if not _registered and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=connections_forget_after_fork)
        _registered = True
