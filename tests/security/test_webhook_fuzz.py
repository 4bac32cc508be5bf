"""Property-based fuzzing of both webhook endpoints (issue 13, acceptance): 2,000 generated requests across bodies,
headers, auth forms, query tokens, connection names and sizes. None may get a 5xx, and every refusal is a 4xx whose
JSON `error` names the problem."""

import base64
import hashlib
import hmac
import json
import time
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitors.models import Connection
from monitors.services.drains import _marks
from monitors.webhooks import MAX_BODY_BYTES
from tests.monitors.factories import ALERT_PAYLOAD, DBX_PAYLOAD, make_webhook_connection

SECRET = "fuzz-webhook-secret-0123456789"
EXAMPLES = 1000  # per endpoint
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # nothing written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@st.composite
def mutated_payload(draw, payload: dict) -> bytes:
    """A valid payload with one field, at any depth, replaced by random JSON or removed."""
    data = json.loads(json.dumps(payload))
    node = data
    while isinstance(node, dict) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node)))
        if not isinstance(node[key], dict):
            break
        node = node[key]
    if isinstance(node, dict) and node:
        key = draw(st.sampled_from(sorted(node)))
        if draw(st.booleans()):
            node[key] = draw(json_values)
        else:
            del node[key]
    return json.dumps(data).encode()


def nested(depth: int, opener: bytes, closer: bytes) -> bytes:
    return b'{"event_type": "jobs.x", "run": {"run_id": "1"}, "task": ' + opener * depth + closer * depth + b"}"


@st.composite
def bodies(draw, payload: dict) -> bytes:
    valid = json.dumps(payload).encode()
    # Sizes around the limit cost the most: about one request in a hundred (not a boundary value, which hypothesis
    # would draw far more often).
    if draw(st.integers(0, 99)) == 37:
        return draw(
            st.sampled_from([valid[:-1] + b', "pad": "' + b"x" * (MAX_BODY_BYTES - len(valid) - 20) + b'"}', OVERSIZED])
        )
    return draw(
        st.one_of(
            st.just(valid),
            mutated_payload(payload),
            json_values.map(lambda value: json.dumps(value).encode()),
            st.integers(1, 3000).map(lambda depth: nested(depth, b"[", b"]")),
            st.integers(1, 1500).map(lambda depth: nested(depth, b'{"a":', b"}")),
            st.integers(4000, 6000).map(lambda digits: b'{"run": {"run_id": ' + b"9" * digits + b"}}"),
            st.integers(0, len(valid)).map(lambda at: valid[:at] + b"\x00" + valid[at:]),
            st.just(valid.replace(b'"jobs.on_failure"', b'"jobs.on_\\u0000failure"')),
            st.binary(max_size=300),
            st.binary(max_size=40).map(lambda raw: valid[:-1] + b', "x": "' + raw + b'"}'),
        )
    )


OVERSIZED = b" " * (MAX_BODY_BYTES + 1)


def _signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


header_text = st.text(max_size=60)
query_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)


@st.composite
def auth_headers(draw, body: bytes) -> tuple[dict[str, str], str]:
    """Headers and a query string, across every way of presenting (or mangling) the secret."""
    headers: dict[str, str] = {}
    query = ""
    for form in draw(st.sets(st.sampled_from(["token", "query", "basic", "bearer", "signature", "garbage"]))):
        if form == "token":
            headers["X-AIMS-Token"] = draw(st.sampled_from([SECRET, SECRET[:-1], ""]) | header_text)
        elif form == "query":
            query = "?token=" + quote(draw(st.sampled_from([SECRET, "x"]) | query_text), safe="")
        elif form == "basic":
            credentials = draw(
                st.sampled_from([f"databricks:{SECRET}".encode(), b"no-colon", b"u:\xff\xfe"]) | st.binary(max_size=40)
            )
            encoded = draw(st.sampled_from(["b64", "raw", "text"]))
            if encoded == "b64":
                value = base64.b64encode(credentials).decode()
            elif encoded == "raw":
                value = credentials.decode("latin-1")
            else:
                value = draw(header_text)
            headers["Authorization"] = draw(st.sampled_from(["Basic ", "basic ", "BASIC  ", "Basic"])) + value
        elif form == "bearer":
            headers["Authorization"] = "Bearer " + draw(header_text)
        elif form == "signature":
            now = int(time.time())
            timestamp = draw(
                st.sampled_from(
                    [str(now), str(now - 299), str(now - 301), str(now + 400), "", "-1", "1e9", "٣", "9" * 5000]
                )
                | st.integers(-(10**20), 10**20).map(str)
                | header_text
            )
            secret = draw(st.sampled_from([SECRET, "another-secret"]))
            signature = draw(
                st.sampled_from([_signature(secret, timestamp, body), "sha256=" + "0" * 64, "sha256=", ""])
                | header_text
            )
            if draw(st.booleans()):
                headers["X-AIMS-Timestamp"] = timestamp
            headers["X-AIMS-Signature"] = signature
        else:
            headers[draw(st.sampled_from(["X-Request-Id", "User-Agent", "X-Correlation-Id"]))] = draw(header_text)
    return headers, query


@st.composite
def valid_auth(draw, body: bytes) -> tuple[dict[str, str], str]:
    """One correct way of presenting the secret, so that the body is what gets tested."""
    form = draw(st.sampled_from(["token", "query", "basic", "signature"]))
    if form == "token":
        return {"X-AIMS-Token": SECRET}, ""
    if form == "query":
        return {}, "?token=" + quote(SECRET)
    if form == "basic":
        return {"Authorization": "Basic " + base64.b64encode(f"databricks:{SECRET}".encode()).decode()}, ""
    timestamp = str(int(time.time()))
    return {"X-AIMS-Timestamp": timestamp, "X-AIMS-Signature": _signature(SECRET, timestamp, body)}, ""


@st.composite
def requests(draw, source: str, connection_name: str, payload: dict) -> dict:
    """Two requests in three authenticate to the right connection (their bodies are then judged); the others mix
    random auth forms and connection names."""
    body = draw(bodies(payload))
    if draw(st.integers(0, 2)):
        name = connection_name
        headers, query = draw(valid_auth(body))
        headers.update({"User-Agent": draw(header_text)} if draw(st.booleans()) else {})
    else:
        name = draw(
            st.sampled_from(["dbx-prod", "adf-prod", "dbx-off", "nope"])
            | st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True)
        )
        headers, query = draw(auth_headers(body))
    content_type = draw(st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
    return {"path": f"/hooks/{source}/{name}/{query}", "body": body, "headers": headers, "content_type": content_type}


@pytest.fixture
def connections(db):
    _marks().clear()
    make_webhook_connection(name="dbx-prod", kind=Connection.Kind.DATABRICKS, secret=SECRET)
    make_webhook_connection(name="adf-prod", kind=Connection.Kind.ADF, secret=SECRET)
    make_webhook_connection(name="dbx-off", kind=Connection.Kind.DATABRICKS, secret=SECRET, enabled=False)


def _check(client: Client, request: dict) -> None:
    response = client.post(
        request["path"], data=request["body"], content_type=request["content_type"], headers=request["headers"]
    )
    assert response.status_code < 500, (request["path"], request["headers"], request["body"][:300], response.content)
    assert response.status_code in {202, 400, 401, 409, 413}, response.status_code
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"].strip(), response.content


def _fuzz(client: Client, strategy) -> int:
    """Send every request hypothesis generates from `strategy`; how many were sent."""
    sent = []

    @FUZZ
    @given(request=strategy)
    def send(request: dict) -> None:
        sent.append(request["path"])
        _check(client, request)

    send()
    return len(sent)


def test_webhook_fuzz_databricks_never_5xx_and_names_the_problem(client, connections):
    """Finding 6, 7, 14, 15, 22 (fuzzed): no generated Databricks webhook request gets a 5xx; every refusal is a
    4xx with an `error`."""
    assert _fuzz(client, requests("databricks", "dbx-prod", DBX_PAYLOAD)) >= EXAMPLES


def test_webhook_fuzz_azure_monitor_never_5xx_and_names_the_problem(client, connections):
    """Finding 6, 7, 14, 15, 22 (fuzzed): no generated Azure Monitor webhook request gets a 5xx; every refusal is a
    4xx with an `error`."""
    assert _fuzz(client, requests("azure-monitor", "adf-prod", ALERT_PAYLOAD)) >= EXAMPLES
