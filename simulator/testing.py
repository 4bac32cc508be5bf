"""Test helper: run the simulator in a background thread on a free loopback port.

    from simulator.testing import run_simulator

    with run_simulator("quiet", seed=3) as sim:
        sim.fail("adf", "pl_daily_orders")
        client = sim.adf_client()          # real azure-mgmt-datafactory client, configured for plain http
        w = sim.databricks_client()        # real databricks-sdk WorkspaceClient
        truth = sim.truth("adf")

As a pytest fixture:

    @pytest.fixture
    def sim():
        with run_simulator("quiet") as handle:
            yield handle

The SDK client helpers import their SDK lazily, so the simulator itself does not depend on them.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator import jira_workflows, snow_schema
from simulator.server import SimServer, bind_socket, make_server
from simulator.world import World

if TYPE_CHECKING:
    from azure.core.credentials import AccessToken
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy
    from azure.mgmt.datafactory import DataFactoryManagementClient
    from databricks.sdk import WorkspaceClient
    from openai import OpenAI

FAR_FUTURE_EPOCH = 4_102_444_800  # 2100-01-01: static test tokens never expire
DEFAULT_SUBSCRIPTION = "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"


class SimulatorError(RuntimeError):
    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"simulator answered {status}: {body}")
        self.status = status
        self.body = body


class StaticTokenCredential:
    """A TokenCredential for the simulator: any non-empty bearer token is accepted for ADF."""

    def __init__(self, token: str = "sim") -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, FAR_FUTURE_EPOCH)


def insecure_arm_auth_policy(credential: StaticTokenCredential, *scopes: str) -> ARMChallengeAuthenticationPolicy:
    """ARM bearer-token policy that allows plain http (azure-core refuses bearer tokens over http otherwise).

    Equivalent to passing `enforce_https=False` on every operation call, but set once on the client.
    Only for the local simulator: real connections must keep https.
    """
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    class _LocalHttpARMPolicy(ARMChallengeAuthenticationPolicy):
        def on_request(self, request: Any) -> Any:
            request.context.options["enforce_https"] = False
            return super().on_request(request)

    return _LocalHttpARMPolicy(credential, *(scopes or ("https://management.azure.com/.default",)))


@dataclass
class SimulatorHandle:
    url: str
    port: int
    world: World
    _server: SimServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    # ------------------------------------------------------------------------------------- raw calls

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        """JSON request to the simulator; raises SimulatorError on a non-2xx answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if data is not None:
            req.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise SimulatorError(exc.code, parsed) from None
        return json.loads(raw) if raw.strip() else None

    # -------------------------------------------------------------------------------- admin mirrors

    def reset(self, scenario: dict[str, Any] | str = "default", **overrides: Any) -> dict[str, Any]:
        body = {"name": scenario, **overrides} if isinstance(scenario, str) else {**scenario, **overrides}
        return self.call("POST", "/_sim/reset", body)

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.call("POST", "/_sim/advance", {"seconds": seconds})

    def clock(self) -> dict[str, Any]:
        return self.call("GET", "/_sim/clock")

    def set_speed(self, speed: float) -> dict[str, Any]:
        return self.call("POST", "/_sim/clock", {"speed": speed})

    def truth(self, source: str = "adf") -> list[dict[str, Any]]:
        return self.call("GET", f"/_sim/truth?source={source}")["runs"]

    def reruns(self, source: str | None = None) -> list[dict[str, Any]]:
        return self.call("GET", "/_sim/reruns" + (f"?source={source}" if source else ""))["reruns"]

    def set_faults(self, config: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
        return self.call("POST", "/_sim/faults", {**(config or {}), **kw})["faults"]

    def stats(self) -> dict[str, Any]:
        return self.call("GET", "/_sim/stats")

    def llm_calls(self) -> dict[str, Any]:
        """{"calls": n, "override": {...}, "requests": [chat request bodies]}"""
        return self.call("GET", "/_sim/llm")

    def set_llm_override(self, **fields: Any) -> dict[str, Any]:
        return self.call("POST", "/_sim/llm", {"override": fields})

    def fail(self, source: str, name: str, **kw: Any) -> dict[str, Any]:
        key = "pipeline" if source == "adf" else "job"
        return self.call("POST", "/_sim/fail", {"source": source, key: name, **kw})

    def storm(self, cause: str, **kw: Any) -> dict[str, Any]:
        """One cause fails many pipelines or jobs now (simulator.storm_causes), e.g. storm("shir_offline",
        factory="adf-sim-analytics")."""
        return self.call("POST", "/_sim/storm", {"cause": cause, **kw})

    def inbox(self, name: str | None = None) -> list[dict[str, Any]]:
        """What AIMS posted to /_sim/inbox/<name> (the demo's Teams, Slack and webhook channels), newest first."""
        return self.call("GET", "/_sim/inbox" + (f"?name={name}" if name else ""))["messages"]

    def skip_runs(self, source: str, name: str, runs: int = 1) -> dict[str, Any]:
        """The next `runs` scheduled runs of the pipeline (adf) or job (databricks) do not start at all."""
        key = "pipeline" if source == "adf" else "job"
        return self.call("POST", "/_sim/skip", {"source": source, key: name, "runs": runs})

    def set_notify(self, **config: Any) -> dict[str, Any]:
        return self.call("POST", "/_sim/notify", config)["notify"]

    def notifications(self) -> list[dict[str, Any]]:
        return self.call("GET", "/_sim/notifications")["notifications"]

    def scenario(self) -> dict[str, Any]:
        return self.call("GET", "/_sim/scenario")

    # --------------------------------------------------------------------- ticketing: Jira, ServiceNow

    @property
    def jira_url(self) -> str:
        """Base URL of the simulated Jira site (the REST API is under /rest/api/3)."""
        return self.url

    @property
    def jira_auth(self) -> tuple[str, str]:
        """(email, api_token) of the API account, for HTTP Basic auth."""
        return (jira_workflows.API_EMAIL, jira_workflows.API_TOKEN)

    @property
    def jira_account_id(self) -> str:
        """The API account's accountId: webhooks for its own changes carry it as `user`/comment author."""
        return jira_workflows.API_ACCOUNT_ID

    @property
    def servicenow_url(self) -> str:
        """Base URL of the simulated instance (the Table API is under /api/now/table)."""
        return self.url

    @property
    def servicenow_auth(self) -> tuple[str, str]:
        """(user, password) of the integration user, for HTTP Basic auth."""
        return (snow_schema.API_USER, snow_schema.API_PASSWORD)

    def jira_truth(self) -> list[dict[str, Any]]:
        """Every issue with status, category, labels, custom fields, comments and the ordered writes made to it."""
        return self.call("GET", "/_sim/jira/truth")["issues"]

    def jira_transition(
        self, key: str, *, status: str | None = None, category: str | None = None, person: str | None = None
    ) -> dict[str, Any]:
        """A person moves the issue to a status (by name) or status category (new, indeterminate, done)."""
        body = {"status": status} if status is not None else {"category": category}
        return self.call("POST", f"/_sim/jira/issues/{key}/transition", {**body, "person": person})

    def jira_comment(self, key: str, text: str, person: str | None = None) -> dict[str, Any]:
        return self.call("POST", f"/_sim/jira/issues/{key}/comment", {"text": text, "person": person})

    def jira_edit(self, key: str, person: str | None = None, **fields: Any) -> dict[str, Any]:
        """A person edits summary, labels or priority."""
        return self.call("POST", f"/_sim/jira/issues/{key}/fields", {**fields, "person": person})

    def jira_add_webhook(
        self,
        url: str,
        secret: str | None = None,
        events: tuple[str, ...] = ("jira:issue_updated", "comment_created"),
        jql: str | None = None,
    ) -> dict[str, Any]:
        """Register an admin webhook through the REST API, as a Jira admin would."""
        token = base64.b64encode(":".join(self.jira_auth).encode()).decode()
        body: dict[str, Any] = {"name": "aims", "url": url, "events": list(events), "secret": secret}
        if jql:
            body["filters"] = {"issue-related-events-section": jql}
        return self.call("POST", "/rest/webhooks/1.0/webhook", body, {"Authorization": f"Basic {token}"})

    def servicenow_truth(self) -> list[dict[str, Any]]:
        """Every incident with its fields, journal (who wrote each entry) and the ordered writes made to it."""
        return self.call("GET", "/_sim/servicenow/truth")["incidents"]

    def servicenow_update(self, sys_id: str, person: str | None = None, **fields: Any) -> dict[str, Any]:
        """A person changes an incident (state, work_notes, comments, close_code, ...): registered callbacks fire."""
        return self.call("PATCH", f"/_sim/servicenow/incidents/{sys_id}", {**fields, "person": person})["result"]

    def servicenow_add_callback(self, url: str, header_name: str, header_value: str) -> dict[str, Any]:
        body = {"url": url, "header_name": header_name, "header_value": header_value}
        return self.call("POST", "/_sim/servicenow/callbacks", body)

    def deliveries(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The delivery log (`jira_webhook`, `servicenow_callback`, or the failure notifications' kinds)."""
        return [n for n in self.notifications() if kind in (None, n["kind"])]

    # ---------------------------------------------------------------------------------- SDK clients

    def adf_client(
        self, subscription_id: str = DEFAULT_SUBSCRIPTION, retry_total: int = 0, **kwargs: Any
    ) -> DataFactoryManagementClient:
        """A real DataFactoryManagementClient pointed at the simulator over plain http."""
        from azure.mgmt.datafactory import DataFactoryManagementClient

        credential = StaticTokenCredential()
        return DataFactoryManagementClient(
            credential,
            subscription_id,
            base_url=self.url,
            retry_total=retry_total,
            authentication_policy=insecure_arm_auth_policy(credential),
            **kwargs,
        )

    def databricks_client(self, token: str = "dapi-sim-ws1", timeout_seconds: int = 5) -> WorkspaceClient:
        from databricks.sdk import WorkspaceClient
        from databricks.sdk.config import Config

        config = Config(
            host=self.url,
            token=token,
            auth_type="pat",
            retry_timeout_seconds=timeout_seconds,
            http_timeout_seconds=timeout_seconds,
        )
        return WorkspaceClient(config=config)

    def openai_client(self, timeout: float = 5) -> OpenAI:
        from openai import OpenAI

        return OpenAI(base_url=self.url + "/v1", api_key="sim", max_retries=0, timeout=timeout)


@contextlib.contextmanager
def run_simulator(scenario: dict[str, Any] | str = "default", **options: Any) -> Iterator[SimulatorHandle]:
    """Start the simulator on 127.0.0.1:<free port> in a daemon thread; stop it on exit.

    `options` override top-level scenario keys (seed, speed, clock_start, faults, notify, adf_page_size, ...).
    """
    world = World(scenario, **options)
    sock = bind_socket("127.0.0.1", 0)
    port = sock.getsockname()[1]
    ready = threading.Event()
    server = make_server(world, ready.set)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"simulator-{port}", daemon=True)
    thread.start()
    try:
        if not ready.wait(10):
            raise RuntimeError("simulator did not start within 10 s")
        handle = SimulatorHandle(f"http://127.0.0.1:{port}", port, world, server, thread)
        _wait_until_answering(handle)
        yield handle
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


def _wait_until_answering(handle: SimulatorHandle, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            handle.call("GET", "/_sim/health")
            return
        except (OSError, SimulatorError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
