"""The admin edits retry policies and connections with validation: bad input names the field and saves nothing."""

from datetime import timedelta

import pytest
from django.contrib import admin as django_admin

from aimsweb.crypto import decrypt_secret
from contracts.models import ContractProducer, DataContract, Warehouse
from incidents.models import (
    EscalationStep,
    Notification,
    NotificationChannel,
    NotificationRoute,
    Runbook,
    SignatureStats,
    TicketLink,
)
from incidents.services.storms import part_ensure
from monitors.models import Connection, MaintenanceWindow, Monitor, WebhookDelivery
from remediation.models import RetryPolicy
from tests.admin_forms import admin_post_data
from tests.contracts.factories import make_check_run_with_violation, make_contract
from tests.incidents.factories import make_analysis, make_incident
from tests.monitors.factories import make_retry_attempt, make_retry_policy

POLICY_URL = "/admin/remediation/retrypolicy/"
CONNECTION_URL = "/admin/monitors/connection/"

VALID_POLICY = {
    "name": "Nightly transient",
    "enabled": "on",
    "priority": "50",
    "connection": "",
    "pipeline_pattern": "nightly_*",
    "error_classes": ["transient", "resource"],
    "min_confidence": "70",
    "rerun_mode": "recover",
    "max_attempts": "3",
    "backoff_initial_seconds": "30",
    "backoff_multiplier": "2",
    "backoff_max_seconds": "600",
    "jitter": "0.2",
    "max_concurrent_reruns": "4",
    "auto_resolve": "on",
}


def _form_errors(response) -> dict:
    return response.context["adminform"].form.errors


@pytest.mark.django_db
def test_admin_retry_policy_valid_saved(admin_client_):
    response = admin_client_.post(f"{POLICY_URL}add/", VALID_POLICY)

    assert response.status_code == 302
    policy = RetryPolicy.objects.get(name="Nightly transient")
    assert policy.error_classes == ["transient", "resource"]
    assert (policy.max_attempts, policy.backoff_multiplier, policy.jitter) == (3, 2.0, 0.2)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_attempts", "0", "greater than or equal to 1"),
        ("max_attempts", "11", "less than or equal to 10"),
        ("max_attempts", "three", "Enter a whole number"),
        ("backoff_multiplier", "0.5", "greater than or equal to 1"),
        ("jitter", "1.5", "less than or equal to 1"),
        ("min_confidence", "101", "less than or equal to 100"),
        ("backoff_max_seconds", "10", "at least the initial delay"),
        ("error_classes", [], "This field is required"),
        ("error_classes", ["transient", "gremlins"], "Select a valid choice"),
        ("pipeline_pattern", "   ", "This field is required"),
        ("rerun_mode", "sideways", "Select a valid choice"),
    ],
)
def test_admin_retry_policy_bad_value_names_field_saves_nothing(admin_client_, field, value, message):
    response = admin_client_.post(f"{POLICY_URL}add/", {**VALID_POLICY, field: value})

    assert response.status_code == 200
    errors = _form_errors(response)
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert "Please correct the error below" in response.content.decode()
    assert not RetryPolicy.objects.exists()


@pytest.mark.django_db
def test_admin_retry_policy_edit_bad_value_keeps_stored_policy(admin_client_):
    admin_client_.post(f"{POLICY_URL}add/", VALID_POLICY)
    policy = RetryPolicy.objects.get()
    url = f"{POLICY_URL}{policy.pk}/change/"
    page = admin_client_.get(url)

    bad = admin_client_.post(url, admin_post_data(page, max_attempts="5", jitter="-1"))
    good = admin_client_.post(url, admin_post_data(page, max_attempts="5"))

    assert bad.status_code == 200 and "jitter" in _form_errors(bad)
    assert good.status_code == 302
    policy.refresh_from_db()
    assert policy.max_attempts == 5 and policy.jitter == 0.2


def test_admin_retry_policy_model_clean_rejects_unknown_class():
    policy = RetryPolicy(name="x", error_classes=["transient", "cosmic_rays"])

    with pytest.raises(Exception, match="Unknown error class 'cosmic_rays'"):
        policy.clean()


VALID_CONNECTION = {
    "name": "sales-adf",
    "kind": "adf",
    "enabled": "on",
    "host": "",
    "subscription_id": "00000000-0000-0000-0000-000000000001",
    "resource_group": "rg-data",
    "factory_name": "adf-sales",
    "auth_method": "service_principal",
    "tenant_id": "tenant-1",
    "client_id": "client-1",
    "secret_env_var": "",
    "secret": "s3cr3t-client-secret-value",
}


@pytest.mark.django_db
def test_admin_connection_secret_stored_encrypted_never_shown(admin_client_):
    response = admin_client_.post(f"{CONNECTION_URL}add/", VALID_CONNECTION)

    assert response.status_code == 302
    connection = Connection.objects.get(name="sales-adf")
    assert "s3cr3t" not in connection.secret_encrypted
    assert decrypt_secret(connection.secret_encrypted) == connection.get_secret() == VALID_CONNECTION["secret"]
    page = admin_client_.get(f"{CONNECTION_URL}{connection.pk}/change/").content.decode()
    listing = admin_client_.get(CONNECTION_URL).content.decode()
    for html in (page, listing):
        assert "s3cr3t" not in html and connection.secret_encrypted not in html
    assert "stored (encrypted)" in page


@pytest.mark.django_db
def test_admin_connection_blank_secret_keeps_stored_one(admin_client_):
    admin_client_.post(f"{CONNECTION_URL}add/", VALID_CONNECTION)
    connection = Connection.objects.get()

    admin_client_.post(
        f"{CONNECTION_URL}{connection.pk}/change/", {**VALID_CONNECTION, "secret": "", "factory_name": "f2"}
    )

    connection.refresh_from_db()
    assert connection.factory_name == "f2"
    assert connection.get_secret() == VALID_CONNECTION["secret"]


@pytest.mark.django_db
def test_admin_connection_secret_from_environment(admin_client_, monkeypatch):
    monkeypatch.setenv("AIMS_CONN_SALES_ADF_SECRET", "from-env")
    admin_client_.post(
        f"{CONNECTION_URL}add/", {**VALID_CONNECTION, "secret": "", "secret_env_var": "AIMS_CONN_SALES_ADF_SECRET"}
    )

    connection = Connection.objects.get()
    assert connection.secret_encrypted == ""
    assert connection.get_secret() == "from-env"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"factory_name": ""}, "factory_name", "Required for an Azure Data Factory connection"),
        ({"host": "http://management.example.com"}, "host", "must use https"),
        ({"is_simulator": "on", "host": "http://10.0.0.5:8765"}, "host", "127.0.0.1 or localhost"),
        ({"auth_method": "static_token"}, "auth_method", "only accepted for a simulator"),
        ({"kind": "databricks", "auth_method": "pat"}, "host", "workspace URL"),
        ({"secret_env_var": "lower-case"}, "secret_env_var", "environment variable name"),
        ({"secret_env_var": "AIMS_CONN_ADF_SECRET"}, "secret", "not both"),
        ({"tenant_id": ""}, "tenant_id", "service-principal"),
    ],
)
def test_admin_connection_bad_settings_name_field_save_nothing(admin_client_, changes, field, message):
    response = admin_client_.post(f"{CONNECTION_URL}add/", {**VALID_CONNECTION, **changes})

    assert response.status_code == 200
    errors = _form_errors(response)
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Connection.objects.exists()


@pytest.mark.django_db
def test_admin_connection_simulator_over_http_accepted(admin_client_):
    response = admin_client_.post(
        f"{CONNECTION_URL}add/",
        {**VALID_CONNECTION, "is_simulator": "on", "host": "http://127.0.0.1:8765", "auth_method": "static_token"},
    )

    assert response.status_code == 302
    assert Connection.objects.get().host == "http://127.0.0.1:8765"


REGISTERED = sorted(
    (model._meta.app_label, model._meta.model_name)
    for model in django_admin.site._registry
    if model._meta.app_label in {"monitors", "remediation", "incidents", "contracts"}
)


def test_admin_registers_every_domain_model():
    from django.apps import apps

    domain = {
        (m._meta.app_label, m._meta.model_name)
        for label in ("monitors", "remediation", "incidents", "contracts")
        for m in apps.get_app_config(label).get_models()
    }
    assert domain == set(REGISTERED)


@pytest.fixture
def one_of_each(db):
    """Rows of every domain model under two connections and two contracts (so related filters have a choice)."""
    for n in range(2):
        incident = make_incident()
        part_ensure(incident)  # the incident's pipeline's part (a storm's incident has several)
        analysis = make_analysis(run=incident.latest_run)
        SignatureStats.objects.create(signature=analysis.signature, signature_text=f"nightly failure {n}")
        make_retry_attempt(run=incident.latest_run)
        make_retry_policy(connection=incident.connection)
        Monitor.objects.create(connection=incident.connection, name="nightly")
        WebhookDelivery.objects.create(
            connection=incident.connection,
            source=WebhookDelivery.Source.AZURE_MONITOR,
            status=WebhookDelivery.Status.REJECTED,
            body=f'{{"nightly": {n}}}',
            error="schemaId: Field required",
        )
        warehouse = Warehouse.objects.create(
            name=f"dw-{n}", engine="postgres", host="127.0.0.1", database="dw", user="aims", sslmode="disable"
        )
        contract = make_contract(name=f"orders-{n}")
        DataContract.objects.filter(pk=contract.pk).update(warehouse=warehouse)
        ContractProducer.objects.create(contract=contract, connection=incident.connection, pipeline_pattern="pl_*")
        make_check_run_with_violation(contract)
        channel = NotificationChannel.objects.create(name=f"nightly-{n}", kind="email", recipients=f"oc{n}@example.com")
        route = NotificationRoute.objects.create(name=f"nightly-{n}", connection=incident.connection)
        route.channels.set([channel])
        EscalationStep.objects.create(route=route, after_minutes=15).channels.set([channel])
        MaintenanceWindow.objects.create(
            name=f"nightly-{n}",
            connection=incident.connection,
            starts_at=incident.first_seen_at,
            ends_at=incident.first_seen_at + timedelta(hours=1),
        )
        Notification.objects.create(
            channel=channel, incident=incident, event="opened", dedup_key=f"nightly-{n}", headline=f"nightly {n}"
        )
        TicketLink.objects.create(incident=incident, system="Jira", key=f"NIGHTLY-{n}")
        Runbook.objects.create(
            title=f"nightly runbook {n}", url=f"https://wiki.example.com/runbooks/{n}", connection=incident.connection
        )


def _lookup(obj, path: str) -> str:
    for part in path.split("__"):
        obj = getattr(obj, part)
    return str(obj)


@pytest.mark.django_db
@pytest.mark.parametrize(("app_label", "model_name"), REGISTERED)
def test_admin_lists_filters_and_searches_each_model(admin_client, one_of_each, app_label, model_name):
    model_admin = next(a for m, a in django_admin.site._registry.items() if m._meta.model_name == model_name)
    url = f"/admin/{app_label}/{model_name}/"

    listing = admin_client.get(url)
    row = listing.context["cl"].result_list[0]
    term = _lookup(row, model_admin.search_fields[0])
    search = admin_client.get(url, {"q": term})
    miss = admin_client.get(url, {"q": "no-such-thing-zzz"})

    assert listing.status_code == search.status_code == miss.status_code == 200
    assert len(listing.context["cl"].filter_specs) == len(model_admin.list_filter) > 0
    assert row in search.context["cl"].result_list
    assert miss.context["cl"].result_count == 0
    assert admin_client.get(f"{url}{row.pk}/change/").status_code == 200


@pytest.mark.django_db
def test_admin_test_connection_action_reports_each_result(admin_client_, settings):
    settings.MONITOR_CLIENTS = {
        "adf": "tests.monitors.fakes.FakeSourceClient",
        "databricks": "monitors.clients.databricks.DatabricksClient",
    }
    settings.SOURCE_TIMEOUT_SECONDS = 1
    good = Connection.objects.create(
        name="good",
        kind="adf",
        is_simulator=True,
        host="http://127.0.0.1:9",
        auth_method="static_token",
        subscription_id="s",
        resource_group="r",
        factory_name="f",
    )
    bad = Connection.objects.create(
        name="unreachable", kind="databricks", is_simulator=True, host="http://127.0.0.1:9", auth_method="pat"
    )

    response = admin_client_.post(
        CONNECTION_URL, {"action": "test_connection", "_selected_action": [good.pk, bad.pk]}, follow=True
    )

    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("good: OK") and "fake" in m for m in messages), messages
    assert any(m.startswith("unreachable: FAILED") for m in messages), messages


@pytest.mark.django_db
def test_admin_connection_webhook_secret_write_only(admin_client_):
    admin_client_.post(f"{CONNECTION_URL}add/", {**VALID_CONNECTION, "webhook_secret": "hook-secret-0123456789"})
    connection = Connection.objects.get()

    page = admin_client_.get(f"{CONNECTION_URL}{connection.pk}/change/").content.decode()

    assert connection.get_webhook_secret() == "hook-secret-0123456789"
    assert "hook-secret-0123456789" not in page
    assert "/hooks/azure-monitor/sales-adf/" in page
    assert "/hooks/adf/sales-adf/ (secret set)" in page


@pytest.mark.django_db
def test_admin_connection_short_webhook_secret_refused(admin_client_):
    response = admin_client_.post(f"{CONNECTION_URL}add/", {**VALID_CONNECTION, "webhook_secret": "short"})

    assert "webhook_secret" in _form_errors(response)
    assert not Connection.objects.exists()
