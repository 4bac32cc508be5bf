"""Clients for the pipeline platforms. Which class serves which kind of connection is the MONITOR_CLIENTS setting,
so tests and the simulator plug in the way Django picks a session engine."""

from django.conf import settings
from django.utils.module_loading import import_string

from monitors.clients.base import SourceClient, SourceError
from monitors.models import Connection

__all__ = ["SourceClient", "SourceError", "client_for"]


def client_for(connection: Connection) -> SourceClient:
    """A client for this connection, with the configured timeout."""
    client_class = import_string(settings.MONITOR_CLIENTS[connection.kind])
    return client_class(connection, timeout=settings.SOURCE_TIMEOUT_SECONDS)
