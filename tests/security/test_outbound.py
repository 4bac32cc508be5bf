"""The address guard: notification channels and connections reach only public https hosts (and the local simulator),
refused at save time in the admin and again at send time, before any connection is attempted."""

import ipaddress
import socket

import pytest

from incidents.models import NotificationChannel
from incidents.notify.http import post_json
from monitors.models import Connection
from monitors.services import connection_check
from simulator.testing import run_simulator

CHANNEL_URL = "/admin/incidents/notificationchannel/"
CONNECTION_URL = "/admin/monitors/connection/"
PUBLIC = "93.184.215.14"
# What the stub resolver answers for each name: a list per lookup, the last one repeated.
NAMES = {
    "hooks.example.com": [[PUBLIC]],
    "evil.example": [[PUBLIC]],
    "internal.example.com": [["10.0.0.7"]],
    "meta.example.com": [["169.254.169.254"]],
    "mapped.example.com": [["::ffff:a9fe:a9fe"]],
    "mixed.example.com": [[PUBLIC, "192.168.1.20"]],
    "db.example.com": [["127.0.0.1"]],
    "rebind.example.com": [[PUBLIC], ["10.0.0.9"]],  # public when the admin saves, private when AIMS sends
}
REFUSED = [
    "https://169.254.169.254/latest/meta-data/",
    "https://[::ffff:a9fe:a9fe]/s3cr3t",
    "https://[::ffff:169.254.169.254]/s3cr3t",
    "https://[64:ff9b::a9fe:a9fe]/s3cr3t",
    "https://[2002:a9fe:a9fe::1]/s3cr3t",
    "https://[fd00:ec2::254]/s3cr3t",
    "https://100.100.100.200/s3cr3t",
    "https://10.1.2.3/s3cr3t",
    "https://172.16.5.4/s3cr3t",
    "https://192.168.1.10/s3cr3t",
    "https://100.64.0.1/s3cr3t",
    "https://[fc00::1]/s3cr3t",
    "https://[fe80::1]/s3cr3t",
    "https://0.0.0.0/s3cr3t",
    "https://224.0.0.1/s3cr3t",
    "https://127.0.0.1:5432/s3cr3t",
    "https://127.0.0.1:6379/s3cr3t",
    "http://127.0.0.1:6379/s3cr3t",
    "https://localhost:5432/s3cr3t",
    "https://[::1]:5432/s3cr3t",
    "https://2130706433/s3cr3t",
    "https://0x7f.1/s3cr3t",
    "https://0177.0.0.1/s3cr3t",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://metadata/s3cr3t",
    "http://evil.example\\@127.0.0.1:8765/s3cr3t",
    "https://evil.example\\@hooks.example.com/s3cr3t",
    "https://user:pw@hooks.example.com/s3cr3t",
    "https://hooks.example.com./s3cr3t",
    "https://hooks%2eexample.com/s3cr3t",
    "https://hooks.example.com/s3cr 3t",
    "http://hooks.example.com/s3cr3t",
    "https://internal.example.com/s3cr3t",
    "https://meta.example.com/s3cr3t",
    "https://mapped.example.com/s3cr3t",
    "https://mixed.example.com/s3cr3t",
    "https://db.example.com/s3cr3t",
]


@pytest.fixture
def network(monkeypatch) -> list:
    """The socket boundary stubbed: names resolve from NAMES (literal addresses as themselves), and every connect
    is recorded and refused, so nothing ever leaves the machine. Yields the connect attempts."""
    lookups: dict[str, int] = {}
    connects: list = []

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            addresses = [str(ipaddress.ip_address(name))]
        except ValueError:
            if name == "localhost":
                addresses = ["127.0.0.1"]
            elif name in NAMES:
                answers = NAMES[name]
                addresses = answers[min(lookups.get(name, 0), len(answers) - 1)]
                lookups[name] = lookups.get(name, 0) + 1
            else:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        port = int(port or 0)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    def connect(sock, address):
        connects.append(address)
        raise ConnectionRefusedError("stub: no connection leaves the test")

    def create_connection(address, *args, **kwargs):
        connects.append(address)
        raise ConnectionRefusedError("stub: no connection leaves the test")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    return connects


def _form_errors(response) -> dict:
    return response.context["adminform"].form.errors


def _channel_form(url: str) -> dict:
    return {"name": "oncall", "kind": "slack", "url": url, "rate_limit_count": 20, "rate_limit_minutes": 60}


def _connection_form(host: str) -> dict:
    return {"name": "dbx", "kind": "databricks", "host": host, "auth_method": "pat", "secret": "dapi-secret-token"}


def _connection(host: str, *, is_simulator: bool = False) -> Connection:
    connection = Connection(
        name="dbx", kind=Connection.Kind.DATABRICKS, is_simulator=is_simulator, host=host, auth_method="pat"
    )
    connection.set_secret("dapi-secret-token")
    connection.save()  # around the admin's validation, as a row edited in the database would be
    return connection


@pytest.mark.django_db
@pytest.mark.parametrize("url", REFUSED)
def test_outbound_channel_url_refused_at_save(admin_client_, network, url):
    """Finding 4, 5: the channel form refuses private, loopback, metadata and ambiguous URLs, naming the field."""
    response = admin_client_.post(f"{CHANNEL_URL}add/", _channel_form(url))

    assert response.status_code == 200
    assert "url" in _form_errors(response)
    assert not NotificationChannel.objects.exists()
    assert network == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", REFUSED)
def test_outbound_connection_host_refused_at_save(admin_client_, network, url):
    """Finding 4, 5: the connection form refuses the same hosts, naming the host field."""
    response = admin_client_.post(f"{CONNECTION_URL}add/", _connection_form(url))

    assert response.status_code == 200
    assert "host" in _form_errors(response)
    assert not Connection.objects.exists()
    assert network == []


@pytest.mark.parametrize("url", [*REFUSED, "https://rebind.example.com/hook"])
def test_outbound_channel_url_refused_at_send_before_connecting(network, url):
    """Finding 4, 5: a stored URL the rules refuse is never posted to: no connection is even attempted."""
    if url == "https://rebind.example.com/hook":
        socket.getaddrinfo("rebind.example.com", 443)  # the lookup the admin's save made

    result = post_json(url, b"{}", {"Content-Type": "application/json"}, timeout=2)

    assert (result.ok, result.retryable) == (False, False), result
    assert result.error.startswith("refused")
    assert "s3cr" not in result.error and "meta-data" not in result.error and "pw" not in result.error
    assert network == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", [*REFUSED, "https://rebind.example.com/hook"])
def test_outbound_connection_refused_at_send_before_connecting(settings, network, url):
    """Finding 4, 5: "Test connection" (and every poll) refuses a stored host the rules refuse, before connecting."""
    settings.SOURCE_TIMEOUT_SECONDS = 1
    if url == "https://rebind.example.com/hook":
        socket.getaddrinfo("rebind.example.com", 443)  # the lookup the admin's save made
    # A simulator connection may use plain http to this machine: the URL that only looks like it must still fail.
    connection = _connection(url, is_simulator="\\@127.0.0.1" in url)

    check = connection_check(connection=connection)

    assert not check.ok
    assert "refused" in check.message or "must use https" in check.message
    assert network == []


@pytest.mark.django_db
def test_outbound_rebinding_name_accepted_at_save_refused_at_send(admin_client_, network):
    """Finding 5: a name that resolves public when saved and private when used is refused when used (the address
    is checked at connection time, not trusted from the save)."""
    saved = admin_client_.post(f"{CHANNEL_URL}add/", _channel_form("https://rebind.example.com/hook"))
    channel = NotificationChannel.objects.get()

    result = post_json(channel.get_url(), b"{}", {}, timeout=2)

    assert saved.status_code == 302
    assert (result.ok, result.retryable) == (False, False) and "10.0.0.9" in result.error
    assert network == []


def test_outbound_public_https_host_connects_to_the_address_checked(network):
    """Finding 5: a public https host passes, and the connection goes to exactly the address that was checked
    (pinned: one lookup per connection, no second one to rebind)."""
    result = post_json("https://hooks.example.com/hook", b"{}", {}, timeout=2)

    assert network == [(PUBLIC, 443)]
    assert (result.ok, result.retryable) == (False, True)  # refused by the stub: a transport error, retried
    assert result.error == "ConnectionError contacting https://hooks.example.com"


@pytest.mark.django_db
def test_outbound_public_https_host_accepted_at_save(admin_client_, network):
    """Finding 5: public https hosts are accepted for channels and connections."""
    channel = admin_client_.post(f"{CHANNEL_URL}add/", _channel_form("https://hooks.example.com/services/T/B/x"))
    connection = admin_client_.post(f"{CONNECTION_URL}add/", _connection_form("https://hooks.example.com"))

    assert channel.status_code == connection.status_code == 302
    assert network == []


@pytest.mark.django_db
def test_outbound_simulator_on_loopback_reachable(settings):
    """Finding 5: the local simulator works: a simulator connection and a channel to an allowed loopback origin."""
    settings.SOURCE_TIMEOUT_SECONDS = 5
    with run_simulator("quiet") as sim:
        settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [sim.url]
        token = sim.scenario()["workspaces"][0]["token"]
        connection = _connection(sim.url, is_simulator=True)
        connection.set_secret(token)
        connection.save()

        check = connection_check(connection=connection)
        result = post_json(f"{sim.url}/_sim/inbox/teams", b"{}", {"Content-Type": "application/json"}, timeout=5)

    assert check.ok, check.message
    assert result.ok, result


def test_outbound_loopback_channel_outside_allowed_origins_refused(settings, network):
    """Finding 5: a channel reaches loopback only at the allowed origins: not another port on this machine."""
    settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = ["http://127.0.0.1:8765"]

    allowed = post_json("http://127.0.0.1:8765/_sim/inbox/teams", b"{}", {}, timeout=2)
    refused = post_json("http://127.0.0.1:5432/", b"{}", {}, timeout=2)

    assert network == [("127.0.0.1", 8765)]  # the allowed one was attempted (and refused by the stub)
    assert allowed.retryable and not refused.retryable and refused.error.startswith("refused")


@pytest.mark.django_db
def test_outbound_test_actions_never_show_the_receiver_body(admin_client_, settings):
    """Finding 5, 13: the admin's channel test shows the status, not what the receiver sent back."""
    from tests.incidents.receivers import Reply, run_receiver

    with run_receiver() as receiver:
        settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [receiver.url]
        receiver.reply_with(Reply(403, b"forbidden: token /services/T/B/s3cr3t-path is not valid"))
        channel = NotificationChannel(name="oncall", kind="slack")
        channel.set_url(f"{receiver.url}/services/T/B/s3cr3t-path")
        channel.save()

        response = admin_client_.post(
            CHANNEL_URL, {"action": "send_test_notification", "_selected_action": [channel.pk]}, follow=True
        )

    text = " ".join(str(m) for m in response.context["messages"])
    assert "HTTP 403 Forbidden" in text
    assert "s3cr3t-path" not in text and "forbidden: token" not in text


@pytest.mark.django_db
def test_notification_failure_keeps_status_not_receiver_echo(settings):
    """Finding 13: a failed delivery stores "HTTP <status> <phrase>" (last_error and timeline), never the receiver's
    body, which may echo the secret URL path it was posted to."""
    from incidents.models import Notification
    from incidents.services import notification_send
    from tests.incidents.factories import make_incident
    from tests.incidents.receivers import Reply, run_receiver

    settings.AIMS_NOTIFY_MAX_ATTEMPTS = 1
    incident = make_incident()
    with run_receiver() as receiver:
        settings.AIMS_OUTBOUND_LOOPBACK_ORIGINS = [receiver.url]
        receiver.reply_with(Reply(404, b"no webhook at /services/T0/B0/s3cr3t-slack-path"))
        channel = NotificationChannel(name="oncall", kind="slack")
        channel.set_url(f"{receiver.url}/services/T0/B0/s3cr3t-slack-path")
        channel.save()
        notification = Notification.objects.create(
            channel=channel, incident=incident, event="opened", dedup_key="n-1", headline="Incident opened"
        )

        status = notification_send(notification_id=notification.pk)

    notification.refresh_from_db()
    timeline = " ".join(event.text for event in incident.events.all())
    assert status == Notification.Status.FAILED
    assert notification.last_error == "HTTP 404 Not Found"
    assert "HTTP 404 Not Found" in timeline
    assert "s3cr3t" not in notification.last_error + timeline


@pytest.mark.django_db
def test_outbound_sdk_clients_send_through_the_guard(settings, network):
    """Finding 5: both platform SDKs send their authenticated calls through the pinned, checked transport (an SDK
    upgrade that drops the mounted adapter fails here)."""
    from aimsweb.outbound import GuardedAdapter
    from monitors.clients.adf import AdfClient
    from monitors.clients.databricks import DatabricksClient

    settings.SOURCE_TIMEOUT_SECONDS = 1
    adf = Connection(
        name="adf",
        kind="adf",
        host="https://management.azure.com",
        auth_method="service_principal",
        tenant_id="t",
        client_id="c",
        subscription_id="s",
        resource_group="r",
        factory_name="f",
    )
    adf.set_secret("client-secret")
    databricks = _connection("https://hooks.example.com")

    arm = AdfClient(adf, timeout=1)._client._client._pipeline._transport.session
    workspace = DatabricksClient(databricks, timeout=1)._api._api_client._session

    for session in (arm, workspace):
        assert isinstance(session.get_adapter("https://x.example"), GuardedAdapter)
        assert isinstance(session.get_adapter("http://x.example"), GuardedAdapter)
