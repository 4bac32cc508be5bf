"""Settings read once per batch: inside `memo_scope()` a `@memoized` reader runs its query once per distinct
arguments and hands every later caller the same result; outside a scope it queries every time.

A batch of failures (one task) reads the retry policies, notification routes and maintenance windows once instead
of once per failure. An edit made while a batch runs applies from the next batch: a batch lasts about a second.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import wraps
from typing import ParamSpec, TypeVar

from django.utils import timezone

_scope: ContextVar[dict | None] = ContextVar("aims_memo_scope", default=None)
_STARTED = "started"
P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def memo_scope() -> Iterator[None]:
    """Memoize the @memoized readers until the block ends (a nested scope shares the outer one)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({_STARTED: timezone.now()})
    try:
        yield
    finally:
        _scope.reset(token)


def memo_started() -> datetime | None:
    """When the current scope began (None outside one): a reader may widen its query to cover the whole batch."""
    scope = _scope.get()
    return scope[_STARTED] if scope is not None else None


def memoized(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` once per scope and positional arguments (which must be hashable); its result must not be
    mutated by callers."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        scope = _scope.get()
        if scope is None:
            return func(*args, **kwargs)
        key = (func, args, tuple(sorted(kwargs.items())))
        if key not in scope:
            scope[key] = func(*args, **kwargs)
        return scope[key]

    return wrapper
