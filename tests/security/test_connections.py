"""Connections' secrets go only where they were entered for, and only Admins make AIMS call out with them."""

import pytest

from aimsweb.roles import Role
from monitors.clients.base import ConnectionCheck
from monitors.models import Connection
from tests.incidents.receivers import run_receiver

CONNECTION_URL = "/admin/monitors/connection/"
SERVER_SECRET = "server-own-secret-0123456789"
STORED_SECRET = "s3cr3t-client-secret-value"
ADF_CONNECTION = {
    "name": "sales-adf",
    "kind": "adf",
    "enabled": "on",
    "host": "https://management.azure.com",
    "subscription_id": "00000000-0000-0000-0000-000000000001",
    "resource_group": "rg-data",
    "factory_name": "adf-sales",
    "auth_method": "service_principal",
    "tenant_id": "tenant-1",
    "client_id": "client-1",
    "secret_env_var": "",
    "secret": STORED_SECRET,
}
SERVER_VARIABLES = ["SECRET_KEY", "DATABASE_URL", "AIMS_ENCRYPTION_KEYS", "AIMS_LLM_API_KEY"]


def _form_errors(response) -> dict:
    return response.context["adminform"].form.errors


@pytest.mark.django_db
@pytest.mark.parametrize("variable", SERVER_VARIABLES)
def test_connection_secret_env_var_server_variable_refused_at_save(admin_client_, monkeypatch, variable):
    """Finding 2: a connection cannot name one of the server's own variables as its secret."""
    monkeypatch.setenv(variable, SERVER_SECRET)

    response = admin_client_.post(f"{CONNECTION_URL}add/", {**ADF_CONNECTION, "secret": "", "secret_env_var": variable})

    assert response.status_code == 200
    assert "AIMS_CONN_" in " ".join(_form_errors(response)["secret_env_var"])
    assert not Connection.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("variable", SERVER_VARIABLES)
def test_connection_secret_env_var_server_variable_never_sent(admin_user, client, monkeypatch, settings, variable):
    """Finding 2: a server variable named on a connection saved around the admin's validation is never read, so
    "Test connection" cannot carry it to the host (a receiver standing in for an attacker's host)."""
    monkeypatch.setenv(variable, SERVER_SECRET)
    settings.SOURCE_TIMEOUT_SECONDS = 2
    admin_user.is_superuser = True  # the action runs whatever the role rules say; only the secret rule is tested
    admin_user.save()
    client.force_login(admin_user)
    with run_receiver() as receiver:
        connection = Connection.objects.create(
            name="exfil",
            kind=Connection.Kind.DATABRICKS,
            is_simulator=True,
            host=receiver.url,
            auth_method=Connection.AuthMethod.PAT,
            secret_env_var=variable,
        )

        client.post(CONNECTION_URL, {"action": "test_connection", "_selected_action": [connection.pk]}, follow=True)

    assert connection.get_secret() == ""
    assert all(SERVER_SECRET not in str(request.headers) for request in receiver.requests), receiver.requests


@pytest.mark.django_db
def test_connection_secret_env_var_with_prefix_accepted(admin_client_, monkeypatch):
    """Finding 2: the dedicated prefix is how a connection's secret is named."""
    monkeypatch.setenv("AIMS_CONN_SALES_ADF", "from-env")

    response = admin_client_.post(
        f"{CONNECTION_URL}add/", {**ADF_CONNECTION, "secret": "", "secret_env_var": "AIMS_CONN_SALES_ADF"}
    )

    assert response.status_code == 302
    assert Connection.objects.get().get_secret() == "from-env"


def _saved_connection(admin_client_, **changes) -> Connection:
    response = admin_client_.post(f"{CONNECTION_URL}add/", {**ADF_CONNECTION, **changes})
    assert response.status_code == 302, _form_errors(response)
    return Connection.objects.get()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [("host", "https://arm.attacker.example"), ("tenant_id", "tenant-2"), ("client_id", "client-2")],
)
def test_connection_destination_change_without_secret_refused(admin_client_, field, value):
    """Finding 3: a new host, tenant or client does not inherit the stored secret: it must be entered again."""
    connection = _saved_connection(admin_client_)

    response = admin_client_.post(
        f"{CONNECTION_URL}{connection.pk}/change/", {**ADF_CONNECTION, "secret": "", field: value}
    )

    assert response.status_code == 200
    assert "requires entering the secret again" in " ".join(_form_errors(response)["secret"])
    connection.refresh_from_db()
    assert getattr(connection, field) == ADF_CONNECTION[field]
    assert connection.get_secret() == STORED_SECRET


@pytest.mark.django_db
def test_connection_destination_change_with_secret_entered_again_saved(admin_client_):
    """Finding 3: entering the secret again with the new host is accepted."""
    connection = _saved_connection(admin_client_)

    response = admin_client_.post(
        f"{CONNECTION_URL}{connection.pk}/change/",
        {**ADF_CONNECTION, "host": "https://arm.example.net", "secret": "new-secret-for-new-host"},
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert (connection.host, connection.get_secret()) == ("https://arm.example.net", "new-secret-for-new-host")


@pytest.mark.django_db
def test_connection_destination_change_with_named_secret_needs_name_again(admin_client_):
    """Finding 3: a secret named by variable is not carried to a new host unless its name is typed again."""
    named = {"secret": "", "secret_env_var": "AIMS_CONN_SALES_ADF"}
    connection = _saved_connection(admin_client_, **named)
    moved = {**ADF_CONNECTION, **named, "host": "https://arm.attacker.example"}

    refused = admin_client_.post(f"{CONNECTION_URL}{connection.pk}/change/", moved)
    confirmed = admin_client_.post(
        f"{CONNECTION_URL}{connection.pk}/change/", {**moved, "confirm_secret_env_var": "AIMS_CONN_SALES_ADF"}
    )

    assert refused.status_code == 200
    assert "requires entering the secret again" in " ".join(_form_errors(refused)["confirm_secret_env_var"])
    assert confirmed.status_code == 302
    connection.refresh_from_db()
    assert connection.host == "https://arm.attacker.example"


@pytest.mark.django_db
def test_connection_unrelated_change_keeps_secret(admin_client_):
    """Finding 3: editing what does not move the secret (the factory) needs no secret."""
    connection = _saved_connection(admin_client_)

    response = admin_client_.post(
        f"{CONNECTION_URL}{connection.pk}/change/", {**ADF_CONNECTION, "secret": "", "factory_name": "adf-2"}
    )

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.get_secret() == STORED_SECRET


@pytest.mark.django_db
def test_connection_test_action_with_view_permission_refused(make_user, client, monkeypatch):
    """Finding 25: a staff user who may only view connections cannot make AIMS call out with their secrets."""
    calls = []

    def check(*, connection):
        calls.append(connection)
        return ConnectionCheck(ok=True, message="called", latency_ms=0)

    monkeypatch.setattr("monitors.admin.connection_check", check)
    viewer = make_user("vic", Role.VIEWER)  # view permission on connections
    viewer.is_staff = True
    viewer.save()
    client.force_login(viewer)
    connection = Connection.objects.create(
        name="adf", kind="adf", is_simulator=True, host="http://127.0.0.1:9", auth_method="static_token"
    )

    listing = client.get(CONNECTION_URL)
    client.post(CONNECTION_URL, {"action": "test_connection", "_selected_action": [connection.pk]})

    assert listing.status_code == 200 and viewer.has_perm("monitors.view_connection")
    assert "test_connection" not in listing.content.decode()
    assert calls == []
