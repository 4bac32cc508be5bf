"""The webhook endpoints: authentication, size, shape, storage and queueing (client stubbed at its boundary)."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from monitors.models import Connection, PipelineRun, WebhookDelivery
from tests.monitors.factories import ALERT_PAYLOAD, DBX_PAYLOAD, make_connection, make_webhook_connection
from tests.monitors.fakes import FakeSourceClient, record

SECRET = "s3cret-webhook-token-0123"


@pytest.fixture
def fake_clients(settings):
    settings.MONITOR_CLIENTS = dict.fromkeys(("adf", "databricks"), "tests.monitors.fakes.FakeSourceClient")
    FakeSourceClient.runs = []
    FakeSourceClient.calls = []
    return FakeSourceClient


@pytest.fixture
def dbx(db):
    return make_webhook_connection(name="dbx-prod", kind=Connection.Kind.DATABRICKS, secret=SECRET)


@pytest.fixture
def adf(db):
    # the factory ALERT_PAYLOAD targets: alerts about any other resource are not looked up
    return make_webhook_connection(
        name="adf-prod",
        kind=Connection.Kind.ADF,
        secret=SECRET,
        subscription_id="s",
        resource_group="rg",
        factory_name="f",
    )


def _post(client, path, body, **headers):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers=headers)


@pytest.mark.django_db
def test_webhook_databricks_accepted_stored_and_queued(client, dbx, fake_clients, django_capture_on_commit_callbacks):
    fake_clients.runs = [record("912345678901234")]

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = _post(client, "/hooks/databricks/dbx-prod/", DBX_PAYLOAD, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 202
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
    assert json.loads(delivery.body) == DBX_PAYLOAD
    assert delivery.status == WebhookDelivery.Status.PROCESSED
    assert delivery.run_ids == ["912345678901234"]
    assert len(callbacks) >= 1
    run = PipelineRun.objects.get(connection=dbx, external_run_id="912345678901234")
    assert run.error_message == "specific error of 912345678901234"  # enriched through the client, after commit


@pytest.mark.django_db
def test_webhook_databricks_numeric_ids_and_task_event_use_job_run(client, dbx, fake_clients):
    payload = {**DBX_PAYLOAD, "task": {"task_key": "t"}, "run": {"run_id": 912345678901377, "parent_run_id": 42}}

    response = _post(client, "/hooks/databricks/dbx-prod/", payload, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 202
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.ACCEPTED


@pytest.mark.django_db
def test_webhook_azure_monitor_finds_failed_runs_of_alerted_pipeline(
    client, adf, fake_clients, django_capture_on_commit_callbacks
):
    fake_clients.runs = [
        record("r-failed", pipeline="pl_orders"),
        record("r-ok", pipeline="pl_orders", status=PipelineRun.Status.SUCCEEDED),
        record("r-other", pipeline="pl_other"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, "/hooks/azure-monitor/adf-prod/?token=" + SECRET, ALERT_PAYLOAD)

    assert response.status_code == 202
    assert WebhookDelivery.objects.get().run_ids == ["r-failed"]
    assert list(PipelineRun.objects.values_list("external_run_id", flat=True)) == ["r-failed"]


@pytest.mark.django_db
def test_webhook_resolved_alert_stored_and_ignored(client, adf, fake_clients, django_capture_on_commit_callbacks):
    resolved = json.loads(json.dumps(ALERT_PAYLOAD))
    resolved["data"]["essentials"]["monitorCondition"] = "Resolved"

    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, "/hooks/azure-monitor/adf-prod/", resolved, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 202
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.IGNORED
    assert fake_clients.calls == []


def _basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"databricks:{password}".encode()).decode()


def _signed(body: bytes, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The signature headers of the current scheme: HMAC-SHA256 over "<timestamp>." + body."""
    sent_at = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), sent_at.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-AIMS-Timestamp": sent_at, "X-AIMS-Signature": "sha256=" + digest}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        lambda: {"X-AIMS-Token": SECRET},
        lambda: {"Authorization": _basic(SECRET)},
        lambda: _signed(json.dumps(DBX_PAYLOAD).encode()),  # signed when the test runs: the timestamp is checked
    ],
    ids=["token-header", "basic-auth", "hmac"],
)
def test_webhook_auth_methods_accepted(client, dbx, fake_clients, headers):
    assert _post(client, "/hooks/databricks/dbx-prod/", json.dumps(DBX_PAYLOAD), **headers()).status_code == 202


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers",
    [
        lambda: {},
        lambda: {"X-AIMS-Token": SECRET[:-1]},
        lambda: {"X-AIMS-Token": SECRET + "x"},
        lambda: {"Authorization": _basic("wrong")},
        lambda: {"Authorization": "Basic !!!notbase64"},
        lambda: _signed(b"another body"),
        lambda: _signed(json.dumps(DBX_PAYLOAD).encode(), secret="other-secret-123456"),
    ],
    ids=["none", "token-short", "token-long", "basic-wrong", "basic-garbled", "hmac-other-body", "hmac-other-secret"],
)
def test_webhook_wrong_secret_401_nothing_stored(client, dbx, headers):
    response = _post(client, "/hooks/databricks/dbx-prod/", json.dumps(DBX_PAYLOAD), **headers())

    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong webhook secret"}
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_webhook_connection_without_secret_refuses(client, db):
    make_connection(name="nosecret", kind=Connection.Kind.DATABRICKS, host="http://127.0.0.1:1", auth_method="pat")

    response = _post(client, "/hooks/databricks/nosecret/", DBX_PAYLOAD, **{"X-AIMS-Token": ""})

    assert response.status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    ["/hooks/databricks/nope/", "/hooks/azure-monitor/dbx-prod/", "/hooks/databricks/adf-prod/"],
    ids=["unknown", "kind-mismatch-dbx", "kind-mismatch-adf"],
)
def test_webhook_unknown_connection_401_like_a_wrong_secret(client, dbx, adf, path):
    response = _post(client, path, DBX_PAYLOAD, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong webhook secret"}


@pytest.mark.django_db
def test_webhook_body_over_1_mib_413_nothing_stored(client, dbx):
    body = json.dumps({**DBX_PAYLOAD, "padding": "x" * (1024 * 1024)})

    response = _post(client, "/hooks/databricks/dbx-prod/", body, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 413
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("source", "body", "message"),
    [
        ("databricks", b'{"event_type": "jobs.on_failure", "run": {"run_id": ', "body is not valid JSON"),
        ("databricks", b"\xff\xfe not utf-8", "body is not valid JSON"),
        ("databricks", b"[1, 2]", "body must be a JSON object"),
        ("databricks", b'{"event_type": "jobs.on_failure"}', "run: Field required"),
        (
            "databricks",
            b'{"event_type": "jobs.on_failure", "run": {"run_id": "abc"}}',
            "run.run_id: String should match",
        ),
        ("databricks", b'{"event_type": "pipeline.update", "run": {"run_id": "1"}}', "event_type: String should match"),
        ("azure-monitor", b'{"data": {}}', "schemaId: Field required"),
        (
            "azure-monitor",
            b'{"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {}}}',
            "data.essentials",
        ),
        ("azure-monitor", b"null", "body must be a JSON object"),
    ],
)
def test_webhook_bad_payload_400_names_problem_still_stored(client, dbx, adf, source, body, message):
    name = "dbx-prod" if source == "databricks" else "adf-prod"

    response = _post(client, f"/hooks/{source}/{name}/", body, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 400
    assert message in response.json()["error"]
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
    assert delivery.status == WebhookDelivery.Status.REJECTED
    assert message in delivery.error
    assert delivery.body == body.decode("utf-8", errors="replace")


@pytest.mark.django_db
def test_webhook_get_not_allowed(client, dbx):
    assert client.get("/hooks/databricks/dbx-prod/").status_code == 405


@pytest.mark.django_db
def test_webhook_headers_kept_without_secrets(client, dbx, fake_clients):
    _post(client, "/hooks/databricks/dbx-prod/", DBX_PAYLOAD, **{"X-AIMS-Token": SECRET, "User-Agent": "Databricks"})

    headers = WebhookDelivery.objects.get().headers
    assert headers["User-Agent"] == "Databricks"
    assert SECRET not in json.dumps(headers)


@pytest.mark.django_db
def test_webhook_secret_rotation_applies_at_once(client, dbx, fake_clients):
    assert _post(client, "/hooks/databricks/dbx-prod/", DBX_PAYLOAD, **{"X-AIMS-Token": SECRET}).status_code == 202

    dbx.set_webhook_secret("a-brand-new-secret-456")
    dbx.save()

    assert _post(client, "/hooks/databricks/dbx-prod/", DBX_PAYLOAD, **{"X-AIMS-Token": SECRET}).status_code == 401
    new = _post(client, "/hooks/databricks/dbx-prod/", DBX_PAYLOAD, **{"X-AIMS-Token": "a-brand-new-secret-456"})
    assert new.status_code == 202


@pytest.mark.django_db
def test_webhook_disabled_connection_401(client, dbx):
    dbx.enabled = False
    dbx.save()

    assert _post(client, "/hooks/databricks/dbx-prod/", DBX_PAYLOAD, **{"X-AIMS-Token": SECRET}).status_code == 401
