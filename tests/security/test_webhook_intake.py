"""Webhook intake hardening (issue 13): malformed auth, hostile JSON, secrets in logs, replay, connection-name
probing, per-run lookup failures and NUL characters. The web server in front of it: test_web_server.py."""

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import time

import pytest
from django.test import Client

from monitors.clients.base import SourceError
from monitors.models import Connection, WebhookDelivery
from monitors.services import webhook_deliveries_process
from monitors.services.drains import _marks
from tests.monitors.factories import make_connection, make_webhook_connection
from tests.monitors.fakes import FakeSourceClient, record
from tests.security.intake_helpers import SECRET

DBX = "/hooks/databricks/dbx-prod/"
DBX_PAYLOAD = {"event_type": "jobs.on_failure", "run": {"run_id": "912345678901234"}}


@pytest.fixture(autouse=True)
def _no_signature_seen():
    """Signatures an earlier test marked as seen (same connection id and body within a second) must not count."""
    _marks().clear()


@pytest.fixture
def dbx(db):
    return make_webhook_connection(name="dbx-prod", kind=Connection.Kind.DATABRICKS, secret=SECRET)


@pytest.fixture
def web(client) -> Client:
    """A client that answers a server error with its 500 page instead of raising, as a real server would."""
    return Client(raise_request_exception=False)


def _post(client: Client, path: str, body: bytes | str, **headers: str):
    return client.post(path, data=body, content_type="application/json", headers=headers)


def _signed(body: bytes, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    sent_at = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), sent_at.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-AIMS-Timestamp": sent_at, "X-AIMS-Signature": "sha256=" + digest}


# --- Finding 6: malformed Authorization ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    ["Basic é", "Basic ZGF0YWJyaWNrczrpp", "Basic " + base64.b64encode(b"u:\xff\xfe").decode(), "Basic", "Bearer é"],
    ids=["non-ascii", "bad-base64", "not-utf8", "empty", "bearer-non-ascii"],
)
def test_webhook_malformed_authorization_401_not_500(web, dbx, authorization):
    """Finding 6: a Basic header with non-ASCII or otherwise malformed credentials is refused 401, never a 500."""
    response = _post(web, DBX, json.dumps(DBX_PAYLOAD), Authorization=authorization)

    assert response.status_code == 401
    assert response.json()["error"]
    assert not WebhookDelivery.objects.exists()


# --- Finding 7: deep nesting, huge integers ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            b'{"event_type": "jobs.on_failure", "run": {"run_id": "1"}, "task": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            "nested too deeply",
        ),
        (
            b'{"event_type": "jobs.on_failure", "run": {"run_id": "1"}, "task": '
            + b'{"a":' * 1000
            + b"1"
            + b"}" * 1001,
            "nested too deeply",
        ),
        (b'{"event_type": "jobs.on_failure", "run": {"run_id": ' + b"7" * 5000 + b"}}", "too many digits"),
    ],
    ids=["array-5000-deep", "object-1000-deep", "int-5000-digits"],
)
def test_webhook_hostile_json_stored_rejected_400(web, dbx, body, problem):
    """Finding 7: JSON nested 1,000+ deep or an integer of 4,301+ digits is a stored rejected delivery answered
    400 naming the problem (senders stop retrying), not a 500."""
    response = _post(web, DBX, body, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 400
    assert problem in response.json()["error"]
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
    assert delivery.status == WebhookDelivery.Status.REJECTED
    assert problem in delivery.error


# --- Finding 12: the query token stays out of every log -----------------------------------------------------------


@pytest.mark.django_db
def test_webhook_query_token_not_in_django_logs(web, dbx, caplog):
    """Finding 12: what Django logs about a ?token= request (4xx warnings included) never holds the token."""
    with caplog.at_level(logging.DEBUG):
        _post(web, DBX + "?token=" + SECRET[:-1] + "X", json.dumps(DBX_PAYLOAD))
        _post(web, DBX + "?token=" + SECRET, b"[1]")

    assert caplog.records
    logged = "\n".join(record.getMessage() + repr(record.args) for record in caplog.records)
    assert SECRET[:-1] not in logged


# --- Finding 14: signed requests carry a timestamp, and are accepted once ------------------------------------------


@pytest.mark.django_db
def test_webhook_signature_replay_refused_409(client, dbx, fake_clients):
    """Finding 14: a signed request (timestamp.body) is accepted once; the same signature again is answered 409
    and not stored again."""
    body = json.dumps(DBX_PAYLOAD).encode()
    headers = _signed(body)

    first = _post(client, DBX, body, **headers)
    again = _post(client, DBX, body, **headers)

    assert first.status_code == 202
    assert again.status_code == 409
    assert "duplicate" in again.json()["error"]
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("skew", [-301, 301, -3600 * 24 * 365])
def test_webhook_signature_stale_timestamp_401_names_it(client, dbx, skew):
    """Finding 14: a correctly signed request whose timestamp is over 5 minutes from AIMS's clock is refused 401
    naming X-AIMS-Timestamp."""
    body = json.dumps(DBX_PAYLOAD).encode()

    response = _post(client, DBX, body, **_signed(body, timestamp=int(time.time()) + skew))

    assert response.status_code == 401
    assert "X-AIMS-Timestamp" in response.json()["error"]
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_webhook_body_only_signature_refused(client, dbx):
    """Finding 14: the old signature of the body alone (replayable forever) no longer authenticates."""
    body = json.dumps(DBX_PAYLOAD).encode()
    old = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()

    response = _post(client, DBX, body, **{"X-AIMS-Signature": old})

    assert response.status_code == 401
    assert not WebhookDelivery.objects.exists()


# --- Finding 15: no answer tells which connection names exist ------------------------------------------------------


@pytest.mark.django_db
def test_webhook_connection_names_not_revealed(client, dbx):
    """Finding 15: unknown, disabled, secret-less and wrong-kind connections answer exactly as a wrong secret does."""
    make_connection(name="dbx-off", kind=Connection.Kind.DATABRICKS, enabled=False, auth_method="pat")
    make_connection(name="dbx-nosecret", kind=Connection.Kind.DATABRICKS, auth_method="pat")
    body = json.dumps(DBX_PAYLOAD)
    wrong = _post(client, DBX, body, **{"X-AIMS-Token": "not-the-secret"})

    for path in [
        "/hooks/databricks/no-such-connection/",
        "/hooks/databricks/dbx-off/",
        "/hooks/databricks/dbx-nosecret/",
        "/hooks/azure-monitor/dbx-prod/",
    ]:
        response = _post(client, path, body, **{"X-AIMS-Token": "not-the-secret"})
        assert (response.status_code, response.json()) == (wrong.status_code, wrong.json()), path
    assert wrong.status_code == 401


# --- Finding 21: one missing run fails one delivery ---------------------------------------------------------------


class MissingRunClient(FakeSourceClient):
    """The platform answers 404 for a run it does not have, or 503 for every run when `down` is set."""

    down = False

    def get_run(self, external_run_id):
        self.calls.append(("get", external_run_id))
        if self.down:
            raise SourceError("Databricks 503 TEMPORARILY_UNAVAILABLE", retryable=True, status=503)
        for run in self.runs:
            if run.external_run_id == external_run_id:
                return run
        raise SourceError(f"Databricks 404 RESOURCE_DOES_NOT_EXIST: Run {external_run_id} does not exist", status=404)


@pytest.fixture
def fake_clients(settings):
    settings.MONITOR_CLIENTS = dict.fromkeys(
        ("adf", "databricks"), "tests.security.test_webhook_intake.MissingRunClient"
    )
    MissingRunClient.runs, MissingRunClient.calls, MissingRunClient.down = [], [], False
    return MissingRunClient


def _deliveries(connection: Connection, run_ids: list[str]) -> list[WebhookDelivery]:
    return [
        WebhookDelivery.objects.create(
            connection=connection,
            source=WebhookDelivery.Source.DATABRICKS,
            status=WebhookDelivery.Status.ACCEPTED,
            body=json.dumps({"event_type": "jobs.on_failure", "run": {"run_id": run_id}}),
        )
        for run_id in run_ids
    ]


@pytest.mark.django_db
def test_webhook_missing_run_fails_only_its_delivery(dbx, fake_clients):
    """Finding 21: a delivery naming a run the platform does not have (404) fails alone ("not found"); the rest of
    its batch is looked up and processed."""
    fake_clients.runs = [record("222"), record("333")]
    missing, found, other = _deliveries(dbx, ["111", "222", "333"])

    with contextlib.suppress(SourceError):  # older code raised the lookup error; the outcome is what matters
        webhook_deliveries_process([missing, found, other])

    for delivery in (missing, found, other):
        delivery.refresh_from_db()
    assert missing.status == WebhookDelivery.Status.FAILED
    assert "not found" in missing.error
    assert (found.status, found.run_ids) == (WebhookDelivery.Status.PROCESSED, ["222"])
    assert (other.status, other.run_ids) == (WebhookDelivery.Status.PROCESSED, ["333"])


@pytest.mark.django_db
def test_webhook_platform_down_still_stops_the_batch(dbx, fake_clients):
    """Finding 21: a 5xx still means the platform is down: one lookup, and the batch's other deliveries wait."""
    fake_clients.down = True
    deliveries = _deliveries(dbx, ["111", "222"])

    with pytest.raises(SourceError):
        webhook_deliveries_process(deliveries)

    assert {call for call in fake_clients.calls if call[0] == "get"} == {("get", "111")}  # tried twice, alone
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.FAILED}


# --- Finding 22: NUL characters ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_webhook_nul_in_body_400_and_stored_safely(web, dbx):
    """Finding 22: a body with a NUL byte is a permanent error (400, not 503) and is stored without the NUL
    (PostgreSQL text cannot hold one)."""
    body = b'{"event_type": "jobs.on_failure", "run": {"run_id": "1\x002"}}'

    response = _post(web, DBX, body, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 400
    delivery = WebhookDelivery.objects.get(pk=response.json()["delivery"])
    assert "\x00" not in delivery.body
    assert "1\ufffd2" in delivery.body


@pytest.mark.django_db
def test_webhook_nul_in_kept_header_stored_safely(web, dbx, fake_clients):
    """Finding 22: a NUL in a kept header (here User-Agent) is stored replaced, and the delivery accepted."""
    fake_clients.runs = [record("912345678901234")]

    response = _post(web, DBX, json.dumps(DBX_PAYLOAD), **{"X-AIMS-Token": SECRET, "User-Agent": "agent\x00x"})

    assert response.status_code == 202
    assert WebhookDelivery.objects.get().headers["User-Agent"] == "agent\ufffdx"


@pytest.mark.django_db
def test_webhook_json_escaped_nul_accepted(client, dbx, fake_clients):
    """Finding 22: a NUL written as a JSON escape (\\u0000) is valid JSON: accepted and stored as sent."""
    body = '{"event_type": "jobs.on_failure", "run": {"run_id": "912345678901234"}, "job": {"name": "a\\u0000b"}}'

    response = _post(client, DBX, body, **{"X-AIMS-Token": SECRET})

    assert response.status_code == 202
    assert WebhookDelivery.objects.get().body == body
