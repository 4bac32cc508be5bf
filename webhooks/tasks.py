"""django-q2 tasks of the webhooks app: each calls one service and lets errors surface."""

from webhooks.services import delivery, retention


def messages_deliver_task() -> int:
    """Deliver what is due; returns how many messages were delivered."""
    return delivery.messages_deliver().delivered


def messages_prune_task() -> int:
    return retention.messages_prune()
