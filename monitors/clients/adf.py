"""Azure Data Factory through azure-mgmt-datafactory (ARM REST, api-version 2018-06-01)."""

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientSecretCredential
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy
from azure.mgmt.datafactory import DataFactoryManagementClient
from azure.mgmt.datafactory.models import RunFilterParameters, RunQueryFilter

from aimsweb.outbound import OutboundPolicy, OutboundRefused, check_url, guarded_session
from monitors.clients.adf_errors import WRAPPER_ACTIVITY_TYPES, activity_failure
from monitors.clients.base import (
    ConnectionCheck,
    FailureDetail,
    PlatformSchedule,
    RerunRequest,
    RerunStarted,
    RerunState,
    RunPage,
    RunRecord,
    SourceClient,
    SourceError,
    retry_after_seconds,
)
from monitors.clients.platform_schedules import adf_trigger_schedules
from monitors.models import Connection, PipelineRun, RerunMode

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"
ADF_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})?$")
ARM_SCOPE = "https://management.azure.com/.default"
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
T = TypeVar("T")
STATUS = {
    "Queued": PipelineRun.Status.QUEUED,
    "InProgress": PipelineRun.Status.RUNNING,
    "Succeeded": PipelineRun.Status.SUCCEEDED,
    "Failed": PipelineRun.Status.FAILED,
    "Canceling": PipelineRun.Status.CANCELLING,
    "Cancelled": PipelineRun.Status.CANCELLED,
}


class AdfError(SourceError):
    provider = "adf"


class _StaticTokenCredential:
    """A fixed bearer token, for the local simulator only."""

    def __init__(self, token: str):
        self._token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


class _SimulatorAuthenticationPolicy(ARMChallengeAuthenticationPolicy):
    """azure-core refuses bearer tokens over plain http; a simulator connection may use it, and only where the
    outbound rules let a simulator go (this machine): each request's URL is checked before the token is added."""

    def __init__(self, credential: TokenCredential, *scopes: str, policy: OutboundPolicy) -> None:
        super().__init__(credential, *scopes)
        self._policy = policy

    def on_request(self, request: PipelineRequest) -> None:
        check_url(request.http_request.url, self._policy)
        request.context.options["enforce_https"] = False
        super().on_request(request)


def _wrap(exc: Exception) -> AdfError:
    refusal = exc if isinstance(exc, OutboundRefused) else exc.__cause__ or exc.__context__
    if isinstance(refusal, OutboundRefused):
        return AdfError(f"ADF call {refusal}", retryable=False, reason=str(refusal))
    if isinstance(exc, HttpResponseError) and exc.status_code is not None and exc.status_code >= 300:
        # Every azure-core response has headers; the protocol HttpResponseError declares for it names only a few.
        headers = getattr(exc.response, "headers", None) or {}
        retry_after = retry_after_seconds(headers.get("Retry-After"))
        code = getattr(exc.error, "code", None) or exc.reason
        return AdfError(
            f"ADF {exc.status_code} {code}: {exc.message}".strip(),
            retryable=exc.status_code in RETRYABLE_STATUS,
            retry_after=retry_after,
            status=exc.status_code,
        )
    # Connection failures, timeouts and bodies that are not valid JSON are worth another try.
    return AdfError(
        f"ADF call failed: {exc.__class__.__name__}: {exc}", retryable=True, reason=f"{exc.__class__.__name__}"
    )


class AdfClient(SourceClient):
    """One factory, as configured on a Connection."""

    tracks_start_time = False  # the run query filters on lastUpdated, so the watermark is an update time

    def __init__(self, connection: Connection, *, timeout: float):
        self.connection = connection
        # Every ARM request connects only to an address the outbound rules allow, the one they checked.
        policy = OutboundPolicy.for_connection(is_simulator=connection.is_simulator)
        credential: TokenCredential
        auth: _SimulatorAuthenticationPolicy | None = None
        if connection.is_simulator:
            credential = _StaticTokenCredential(connection.get_secret() or "simulator")
            auth = _SimulatorAuthenticationPolicy(credential, ARM_SCOPE, policy=policy)
        else:
            try:
                credential = ClientSecretCredential(
                    connection.tenant_id,
                    connection.client_id,
                    connection.get_secret(),
                    transport=RequestsTransport(session=guarded_session(OutboundPolicy())),
                )
            except ValueError as exc:  # no secret (or one from a variable name the rules refuse), a bad tenant
                raise AdfError(f"ADF credential unusable: {exc}", reason="the connection has no usable secret") from exc
        self._client = DataFactoryManagementClient(
            credential,
            connection.subscription_id,
            base_url=connection.host or DEFAULT_ARM_ENDPOINT,
            authentication_policy=auth,
            transport=RequestsTransport(session=guarded_session(policy)),
            retry_total=0,  # AIMS backs off itself, honouring Retry-After (monitors.clients.base.call_with_backoff)
            connection_timeout=timeout,
            read_timeout=timeout,
        )
        self._scope = (connection.resource_group, connection.factory_name)

    def _call(self, operation: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return operation(*self._scope, *args, **kwargs)
        except (AzureError, ValueError) as exc:
            raise _wrap(exc) from exc

    def list_runs_page(self, *, since: datetime, until: datetime, page_token: str | None) -> RunPage:
        response = self._call(
            self._client.pipeline_runs.query_by_factory,
            RunFilterParameters(last_updated_after=since, last_updated_before=until, continuation_token=page_token),
        )
        return RunPage(
            runs=[_record(run.as_dict()) for run in response.value or []], next_token=response.continuation_token
        )

    def failed_runs_page(
        self, *, since: datetime, until: datetime, pipeline_names: set[str], page_token: str | None
    ) -> RunPage:
        """Failed runs updated in the window, of the named pipelines (all when none are named), filtered by the
        service: what an Azure Monitor alert points at, without paging through every run of the factory."""
        filters = [RunQueryFilter(operand="Status", operator="Equals", values_property=["Failed"])]
        if pipeline_names:
            filters.append(
                RunQueryFilter(operand="PipelineName", operator="In", values_property=sorted(pipeline_names))
            )
        response = self._call(
            self._client.pipeline_runs.query_by_factory,
            RunFilterParameters(
                last_updated_after=since, last_updated_before=until, continuation_token=page_token, filters=filters
            ),
        )
        return RunPage(
            runs=[_record(run.as_dict()) for run in response.value or []], next_token=response.continuation_token
        )

    def get_run(self, external_run_id: str) -> RunRecord:
        return _record(self._call(self._client.pipeline_runs.get, external_run_id).as_dict())

    def failure_detail(self, run_raw: dict[str, Any], external_run_id: str) -> FailureDetail:
        record = _record(run_raw)
        activities = self._activity_runs(
            external_run_id,
            since=record.started_at or record.updated_at,
            until=record.ended_at or record.updated_at,
            filters={"Status": "Failed"},
        )
        return _failure_from_activities(activities, run_message=record.message)

    def _activity_runs(
        self, external_run_id: str, *, since: datetime | None, until: datetime | None, filters: dict[str, str]
    ) -> list[dict[str, Any]]:
        """The run's activity runs matching `filters` (operand: value), every page; the window (updated between an
        hour before the run started and a day after it ended) only bounds the platform's search."""
        now = datetime.now().astimezone()
        start, end = (since or now) - timedelta(hours=1), (until or now) + timedelta(days=1)
        conditions = [
            RunQueryFilter(operand=operand, operator="Equals", values_property=[value])
            for operand, value in filters.items()
        ]
        activities: list[dict[str, Any]] = []
        token = None
        while True:
            response = self._call(
                self._client.activity_runs.query_by_pipeline_run,
                external_run_id,
                RunFilterParameters(
                    last_updated_after=start, last_updated_before=end, continuation_token=token, filters=conditions
                ),
            )
            activities.extend(activity.as_dict() for activity in response.value or [])
            token = response.continuation_token
            if not token:
                return activities

    def start_rerun(self, request: RerunRequest) -> RerunStarted:
        """A recovery run in the failed run's group: from the failed activity (recover) or every activity (full);
        both reuse the original run's parameters."""
        options = {"reference_pipeline_run_id": request.external_run_id, "is_recovery": True}
        if request.mode == RerunMode.RECOVER:
            options["start_from_failure"] = True
        response = self._call(self._client.pipelines.create_run, request.pipeline_name, **options)
        return RerunStarted(rerun_id=response.run_id, run_id=response.run_id)

    def rerun_state(self, request: RerunRequest, started: RerunStarted) -> RerunState:
        record = self.get_run(started.run_id)
        return RerunState(status=record.status, record=record)

    def find_rerun(self, request: RerunRequest, *, known: set[str]) -> RerunStarted | None:
        """Recovery runs share the original's run group: the newest member that is neither the original nor known."""
        original = _record(request.run_raw)
        group = request.run_raw.get("runGroupId") or request.external_run_id
        since = (original.started_at or original.updated_at or datetime.now(UTC)) - timedelta(hours=1)
        until = max(datetime.now(UTC), since) + timedelta(days=30)
        members: list[RunRecord] = []
        token = None
        while True:
            response = self._call(
                self._client.pipeline_runs.query_by_factory,
                RunFilterParameters(
                    last_updated_after=since,
                    last_updated_before=until,
                    continuation_token=token,
                    filters=[RunQueryFilter(operand="RunGroupId", operator="Equals", values_property=[group])],
                ),
            )
            members.extend(_record(run.as_dict()) for run in response.value or [])
            token = response.continuation_token
            if not token:
                break
        unknown = [
            member
            for member in members
            if member.external_run_id != request.external_run_id and member.external_run_id not in known
        ]
        if not unknown:
            return None
        newest = max(unknown, key=lambda member: member.started_at or member.updated_at or since)
        return RerunStarted(rerun_id=newest.external_run_id, run_id=newest.external_run_id)

    def rows_written(self, external_run_id: str, *, started_at: datetime, ended_at: datetime | None) -> int | None:
        """Rows the run's succeeded Copy activities wrote (their output's `rowsCopied`), None when it has none."""
        copies = self._activity_runs(
            external_run_id, since=started_at, until=ended_at, filters={"ActivityType": "Copy", "Status": "Succeeded"}
        )
        outputs = [activity.get("output") for activity in copies]
        rows = [output.get("rowsCopied") for output in outputs if isinstance(output, dict)]
        counted = [n for n in rows if isinstance(n, int) and not isinstance(n, bool)]
        return sum(counted) if counted else None

    def schedules(self) -> list[PlatformSchedule]:
        """The schedule of every pipeline a time trigger of the factory starts (triggers/list, every page)."""
        return [schedule for trigger in self._call(self._triggers) for schedule in adf_trigger_schedules(trigger)]

    def _triggers(self, resource_group: str, factory_name: str) -> list[dict[str, Any]]:
        # The pager fetches each page while it is iterated, so the whole walk runs inside _call's error wrapping.
        return [trigger.as_dict() for trigger in self._client.triggers.list_by_factory(resource_group, factory_name)]

    def check(self) -> ConnectionCheck:
        started = time.perf_counter()
        now = datetime.now().astimezone()
        try:
            page = self.list_runs_page(since=now - timedelta(days=1), until=now, page_token=None)
        except AdfError as exc:
            return ConnectionCheck(ok=False, message=f"ADF: {exc.reason}", latency_ms=_ms_since(started))
        message = f"Reached factory {self.connection.factory_name}: {len(page.runs)} runs updated in the last day"
        return ConnectionCheck(
            ok=True, message=message + (" (first page)" if page.next_token else ""), latency_ms=_ms_since(started)
        )


def _ms_since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    # ADF sends 7 fractional digits; Python keeps 6. A time without a zone is UTC, as ARM means it.
    match = ADF_TIME.match(value)
    if match is None:
        raise AdfError(f"ADF sent a time that is not ISO 8601: {value!r}")
    head, fraction, zone = match.groups()
    parsed = datetime.fromisoformat(f"{head}.{(fraction or '0')[:6]:0<6}")
    if zone in (None, "", "Z", "z"):
        return parsed.replace(tzinfo=UTC)
    return parsed.replace(tzinfo=datetime.fromisoformat(f"2000-01-01T00:00:00{zone}").tzinfo)


def _record(raw: dict[str, Any]) -> RunRecord:
    status = raw.get("status") or ""
    return RunRecord(
        external_run_id=raw["runId"],
        pipeline_external_id=raw.get("pipelineName", ""),
        pipeline_name=raw.get("pipelineName", ""),
        status=STATUS.get(status, PipelineRun.Status.RUNNING),
        platform_status=status,
        started_at=_parse_time(raw.get("runStart")),
        ended_at=_parse_time(raw.get("runEnd")),
        duration_ms=raw.get("durationInMs"),
        updated_at=_parse_time(raw.get("lastUpdated")),
        message=raw.get("message") or "",
        raw=raw,
    )


def _failure_from_activities(activities: list[dict[str, Any]], *, run_message: str) -> FailureDetail:
    """The root failure: the earliest failed activity that is not a wrapper repeating a child's failure."""
    failed = [a for a in activities if a.get("status") == "Failed"]
    failed.sort(key=lambda a: (a.get("activityType") in WRAPPER_ACTIVITY_TYPES, a.get("activityRunStart") or ""))
    for activity in failed:
        error = activity.get("error") or {}
        if error.get("message"):
            failure = activity_failure(
                error, activity_name=activity.get("activityName", ""), activity_type=activity.get("activityType", "")
            )
            return FailureDetail(
                failed_step=failure.failed_step,
                error_code=failure.error_code,
                error_message=failure.error_message,
                error_trace="",
                raw={"activity_runs": activities},
            )
    return FailureDetail(
        failed_step="", error_code="", error_message=run_message, error_trace="", raw={"activity_runs": activities}
    )
