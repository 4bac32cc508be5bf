"""Clients for the pipeline platforms. Which class serves which kind of connection is the MONITOR_CLIENTS setting,
so tests and the simulator plug in the way Django picks a session engine."""

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.module_loading import import_string

from monitors.clients.base import SourceClient, SourceError
from monitors.models import Connection

__all__ = ["SourceClient", "SourceError", "client_for"]

if TYPE_CHECKING:
    # For mypy: each platform's client implements the whole protocol (an abstract class is refused here).
    from monitors.clients.adf import AdfClient
    from monitors.clients.databricks import DatabricksClient

    _adf: type[SourceClient] = AdfClient
    _databricks: type[SourceClient] = DatabricksClient


# Building an SDK client (configuration, credential, HTTP pipeline) costs more than the call it makes, and a worker
# calls the same few connections all day: clients are kept per process and thread, keyed by everything they are
# built from, so an edited connection or a changed setting gets a new one.
_CLIENTS_KEPT = 32
_clients = threading.local()

CLIENT_FIELDS = (
    "kind",
    "is_simulator",
    "host",
    "auth_method",
    "tenant_id",
    "client_id",
    "subscription_id",
    "resource_group",
    "factory_name",
    "secret_env_var",
    "secret_encrypted",
)


def _client_key(connection: Connection) -> tuple[Any, ...]:
    return (
        connection.pk,
        connection.updated_at,
        *(getattr(connection, field) for field in CLIENT_FIELDS),
        settings.MONITOR_CLIENTS[connection.kind],
        settings.SOURCE_TIMEOUT_SECONDS,
    )


def client_for(connection: Connection) -> SourceClient:
    """A client for this connection, with the configured timeout (reused while the connection and settings are
    unchanged). Refuses a connection whose endpoint breaks the outbound rules even if it was saved around the
    admin's validation (aimsweb.outbound); each request is checked again against the address it connects to."""
    if connection.host:
        problem = connection.endpoint_problem()
        if problem:
            raise SourceError(f"connection {connection.name}: {problem}", reason=problem)
    kept: OrderedDict[tuple[Any, ...], SourceClient] = getattr(_clients, "kept", None) or OrderedDict()
    _clients.kept = kept
    key = _client_key(connection)
    client = kept.get(key)
    if client is None:
        client_class: type[SourceClient] = import_string(settings.MONITOR_CLIENTS[connection.kind])
        client = kept[key] = client_class(connection, timeout=settings.SOURCE_TIMEOUT_SECONDS)
        while len(kept) > _CLIENTS_KEPT:
            kept.popitem(last=False)
    kept.move_to_end(key)
    return client
