"""Ticket sync: the outbox written with each timeline event, the worker that carries it to the tickets, what comes
back from the tickets (webhooks, callbacks, the reconcile poll), and the routes' secrets."""
