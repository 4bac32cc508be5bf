"""How one layer tells the layers above it what happened: a Django signal, sent once the transaction that made it
so commits, carrying ids and plain values (never model instances: a receiver reads what it needs itself)."""

from functools import partial

from django.db import transaction
from django.dispatch import Signal


def send_on_commit(signal: Signal, *, sender: str, **values: object) -> None:
    """Send `signal` after the current transaction commits (at once outside one; never if it rolls back). A receiver
    that raises fails the caller after the commit, so a task records it and its work is not lost."""
    transaction.on_commit(partial(signal.send, sender=sender, **values))
