"""The one way a batch task goes through its items: one failing does not stop the others, and the first error is
raised at the end, so the task queue records the task as failed while the rest of the batch is done."""

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


def apply_each(items: Iterable[T], action: Callable[[T], object], *, label: str = "") -> tuple[int, Exception | None]:
    """Apply `action` to every item; returns how many succeeded and the first error (None when none failed). With
    a label, each failure is logged with it."""
    done, first_error = 0, None
    for item in items:
        try:
            action(item)
        except Exception as exc:  # reported after the rest of the batch is done
            if label:
                logger.exception("%s %s failed", label, item)
            first_error = first_error or exc
        else:
            done += 1
    return done, first_error


def each_then_raise(items: Iterable[T], action: Callable[[T], object], *, label: str = "") -> int:
    """apply_each, then raise the first error if any; returns how many succeeded."""
    done, first_error = apply_each(items, action, label=label)
    if first_error is not None:
        raise first_error
    return done
