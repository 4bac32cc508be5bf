"""One transport rule (aimsweb.outbound): https to public addresses; plain http, and loopback at all, only for the
local simulator. A connection marked simulator reaches this machine and nothing else, whichever path asks."""

import socket

import pytest

from aimsweb.outbound import OutboundPolicy, host_problem, url_problem
from monitors.clients import SourceError, client_for
from monitors.clients.adf import AdfClient
from monitors.models import Connection

SIMULATOR = OutboundPolicy.for_connection(is_simulator=True)
REAL = OutboundPolicy.for_connection(is_simulator=False)
PUBLIC = "93.184.215.14"


def _connection(host: str, *, is_simulator: bool, kind: str = Connection.Kind.DATABRICKS) -> Connection:
    return Connection(
        name="target",
        kind=kind,
        is_simulator=is_simulator,
        host=host,
        auth_method=Connection.AuthMethod.STATIC_TOKEN if is_simulator else Connection.AuthMethod.PAT,
        subscription_id="sub-1",
        resource_group="rg-1",
        factory_name="factory-1",
    )


@pytest.mark.parametrize(
    "host",
    [
        "https://adb-1.azuredatabricks.net",  # the flag would otherwise send the simulator's token to a real host
        "http://attacker.example:8765",
        "http://10.0.0.5:8765",
        "http://127.0.0.2:8765",  # loopback, but not spelled as the simulator's
        "http://localhost.attacker.example:8765",
        "http://127.0.0.1.nip.io:8765",
        "http://[::ffff:127.0.0.1]:8765",
    ],
)
def test_transport_simulator_flag_with_other_host_refused(host):
    problem = _connection(host, is_simulator=True).endpoint_problem()

    assert "127.0.0.1 or localhost" in problem or "refused" in problem
    assert url_problem(host, SIMULATOR)


@pytest.mark.parametrize("host", ["http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765"])
def test_transport_simulator_on_this_machine_accepted(host):
    assert _connection(host, is_simulator=True).endpoint_problem() == ""


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("http://adb-1.azuredatabricks.net", "must use https"),
        ("http://93.184.215.14", "must use https"),
        ("http://127.0.0.1:8765", "must use https"),  # plain http to this machine needs the simulator flag
        ("https://127.0.0.1:8765", "loopback"),
        ("https://localhost:8765", "loopback"),
    ],
)
def test_transport_real_connection_http_or_loopback_refused(host, message):
    problem = _connection(host, is_simulator=False).endpoint_problem()

    assert message in problem


def test_transport_simulator_name_resolving_elsewhere_refused(monkeypatch):
    """The simulator's name must lead to this machine when the request is sent, not only when it is spelled."""

    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)

    problem = host_problem("http://localhost:8765", SIMULATOR)

    assert f"{PUBLIC} is not this machine" in problem


def test_transport_channel_plain_http_to_public_host_refused(settings):
    settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = ["http://127.0.0.1:8765"]

    refused = url_problem("http://hooks.example.com/hook", OutboundPolicy.for_channels())
    inbox = url_problem("http://127.0.0.1:8765/_sim/inbox/teams", OutboundPolicy.for_channels())

    assert refused.startswith("plain http") and "must use https" in refused
    assert inbox == ""


@pytest.mark.django_db
def test_transport_client_for_refuses_simulator_flag_on_public_host():
    connection = _connection("https://adb-1.azuredatabricks.net", is_simulator=True)
    connection.set_secret("simulator-token")
    connection.save()  # around the admin's validation, as a row edited in the database would be

    with pytest.raises(SourceError, match="127.0.0.1 or localhost"):
        client_for(connection)


def test_transport_adf_simulator_token_never_leaves_this_machine():
    """A simulator ADF connection without a host would talk to the real ARM endpoint: its token, sent over the
    plain-http exception, is refused there before any request is made."""
    connection = _connection("", is_simulator=True, kind=Connection.Kind.ADF)
    connection.set_secret("simulator-token")
    client = AdfClient(connection, timeout=2)

    with pytest.raises(SourceError, match="127.0.0.1 or localhost") as refused:
        client.get_run("run-1")

    assert refused.value.retryable is False
