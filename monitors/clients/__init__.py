"""Clients for the pipeline platforms. Which class serves which kind of connection is the MONITOR_CLIENTS setting,
so tests and the simulator plug in the way Django picks a session engine."""

from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string

from monitors.clients.base import SourceClient, SourceError
from monitors.models import LOOPBACK_HOSTS, Connection

__all__ = ["SourceClient", "SourceError", "client_for"]


def client_for(connection: Connection) -> SourceClient:
    """A client for this connection, with the configured timeout. Refuses a connection whose endpoint breaks the
    transport rule even if it was saved around the admin's validation: plain http only to a loopback simulator."""
    if connection.host:
        parts = urlsplit(connection.host)
        if connection.is_simulator and parts.hostname not in LOOPBACK_HOSTS:
            raise SourceError(f"connection {connection.name}: a simulator must be on 127.0.0.1 or localhost")
        if not connection.is_simulator and parts.scheme != "https":
            raise SourceError(f"connection {connection.name}: a real endpoint must use https")
    client_class = import_string(settings.MONITOR_CLIENTS[connection.kind])
    return client_class(connection, timeout=settings.SOURCE_TIMEOUT_SECONDS)
