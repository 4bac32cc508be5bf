"""django-q2 tasks of the api app: each calls one service and lets errors surface."""

from api.idempotency import idempotency_prune


def idempotency_prune_task() -> int:
    """Forget Idempotency-Key answers older than the replay window; returns how many."""
    return idempotency_prune()
