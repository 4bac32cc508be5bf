"""Warehouse validation: engine-specific fields, TLS only off on this machine, the connections' secret rule."""

import pytest
from django.core.exceptions import ValidationError

from contracts.models import Warehouse
from monitors.models import Connection

pytestmark = pytest.mark.django_db


def _postgres(**fields) -> Warehouse:
    return Warehouse(
        **{"name": "pg", "engine": "postgres", "host": "db.example.com", "database": "dwh", "user": "aims", **fields}
    )


def _errors(warehouse: Warehouse) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        warehouse.full_clean()
    return caught.value.message_dict


def test_warehouse_clean_postgres_complete_passes():
    _postgres(secret_env_var="AIMS_CONN_DWH_PASSWORD").full_clean()


def test_warehouse_clean_sslmode_disable_remote_host_refused():
    assert "sslmode" in _errors(_postgres(sslmode="disable"))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost"])
def test_warehouse_clean_sslmode_disable_local_host_allowed(host):
    _postgres(host=host, sslmode="disable").full_clean()


@pytest.mark.parametrize("variable", ["DATABASE_URL", "SECRET_KEY", "AIMS_ENCRYPTION_KEYS", "PGPASSWORD"])
def test_warehouse_clean_server_variable_as_secret_refused(variable):
    assert "secret_env_var" in _errors(_postgres(secret_env_var=variable))


def test_warehouse_get_secret_refused_variable_saved_around_validation_yields_nothing(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:server-password@db/x")
    assert _postgres(secret_env_var="DATABASE_URL").get_secret() == ""


def test_warehouse_get_secret_stored_round_trips():
    warehouse = _postgres()
    warehouse.set_secret("s3cret")
    assert warehouse.secret_encrypted and "s3cret" not in warehouse.secret_encrypted
    assert warehouse.get_secret() == "s3cret"


def test_warehouse_clean_postgres_missing_fields_named():
    errors = _errors(Warehouse(name="pg", engine="postgres"))
    assert {"host", "database", "user"} <= set(errors)


def test_warehouse_clean_host_with_options_refused():
    assert "host" in _errors(_postgres(host="db.example.com dbname=other"))


def test_warehouse_clean_databricks_needs_connection_and_warehouse_id():
    errors = _errors(Warehouse(name="dbx", engine="databricks_sql"))
    assert {"connection", "warehouse_id"} <= set(errors)


def test_warehouse_clean_databricks_with_adf_connection_refused():
    adf = Connection.objects.create(
        name="adf",
        kind="adf",
        auth_method="static_token",
        is_simulator=True,
        host="http://127.0.0.1:8765",
        subscription_id="s",
        resource_group="r",
        factory_name="f",
    )
    errors = _errors(Warehouse(name="dbx", engine="databricks_sql", connection=adf, warehouse_id="abc123"))
    assert "connection" in errors


def test_warehouse_clean_timeout_and_pool_bounds_enforced():
    errors = _errors(_postgres(statement_timeout_seconds=0, max_connections=21))
    assert {"statement_timeout_seconds", "max_connections"} <= set(errors)
