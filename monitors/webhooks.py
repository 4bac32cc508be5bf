"""Failure webhooks: who may send them, and what their payloads must look like.

Databricks sends a job notification (event type, run and job ids, no error); Azure Monitor sends a common-alert-schema
alert for a factory metric or a log search over factory logs, or about any other resource sharing the action group
(no run id at all: monitors.alerts says which factory, pipelines and window it points at). Both, like the
failure callback an ADF pipeline sends itself (monitors.adf_callback), are only pointers:
the processing task looks the runs up through the platform API and ingests them the way polling does.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from monitors.adf_callback import AdfCallback
from monitors.models import Connection, WebhookDelivery

MAX_BODY_BYTES = 1024 * 1024
TOKEN_HEADER = "X-AIMS-Token"
SIGNATURE_HEADER = "X-AIMS-Signature"
TIMESTAMP_HEADER = "X-AIMS-Timestamp"
# A signed request is refused when its timestamp is further than this from AIMS's clock, either way; within it, the
# same signature is accepted once (monitors.services.webhook_signature_first_seen).
SIGNATURE_TOLERANCE_SECONDS = 5 * 60
MAX_JSON_DEPTH = 64  # far beyond any payload's shape, far below the parser's recursion limit
NO_SECRET = "missing or wrong webhook secret"
# Compared against when the URL names no usable connection, so such a request costs what a wrong secret costs.
_DUMMY_SECRET = secrets.token_urlsafe(32)
KEPT_HEADERS = ("Content-Type", "User-Agent", "X-Request-Id", "X-Databricks-Request-Id", "X-Correlation-Id")


class PayloadError(ValueError):
    """The body is not JSON of the expected shape; the message names the problem."""


def _id_text(value: Any) -> Any:
    """Databricks documents ids as strings but may send numbers: accept both, keep text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


IdText = Annotated[str, BeforeValidator(_id_text), Field(min_length=1, pattern=r"^\d+$")]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class DatabricksRunRef(_Lenient):
    run_id: IdText
    parent_run_id: IdText | None = None


class DatabricksJobRef(_Lenient):
    job_id: IdText | None = None
    name: str | None = None


class DatabricksNotification(_Lenient):
    event_type: Annotated[str, Field(pattern=r"^jobs\.")]
    workspace_id: Annotated[str | None, BeforeValidator(_id_text)] = None
    run: DatabricksRunRef
    job: DatabricksJobRef | None = None
    task: dict[str, Any] | None = None

    @property
    def job_run_id(self) -> str:
        """A task-level event names the task run; its parent is the job run AIMS tracks."""
        return self.run.parent_run_id or self.run.run_id


def _scalar_text(value: Any) -> Any:
    """A dimension value as text: log queries may split by a numeric or boolean column."""
    return str(value) if isinstance(value, int | float) else value


def _alert_time(value: Any) -> Any:
    """Log Analytics (v1) contexts write their search interval US style, in UTC ("5/28/2024 7:35:00 AM"); every
    other alert time is ISO 8601."""
    if isinstance(value, str) and US_TIME.match(value.strip()):
        try:
            return datetime.strptime(value.strip().upper(), "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=UTC)
        except ValueError as exc:
            raise ValueError("not a date and time (M/D/YYYY h:mm:ss AM/PM)") from exc
    return value


def _utc(value: datetime | None) -> datetime | None:
    """Azure Monitor times are UTC, with or without a zone."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


US_TIME = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2} [AaPp][Mm]$")
AlertTime = Annotated[datetime, BeforeValidator(_alert_time), AfterValidator(_utc)]
# Dimensions that name the pipeline in any alert; `Name` does only on the Pipeline*Runs metrics (on ActivityFailedRuns
# it is the activity, on TriggerFailedRuns the trigger). pipelineName_s: the AzureDiagnostics column.
PIPELINE_DIMENSIONS = {"pipelinename", "pipelinename_s"}
PIPELINE_METRIC = re.compile(r"^pipeline\w*runs$", re.IGNORECASE)


class AlertDimension(_Lenient):
    name: str
    value: Annotated[str, BeforeValidator(_scalar_text)] | None = None


class AlertCriterion(_Lenient):
    """One entry of `condition.allOf`: a metric criterion, or a log search (v2) with the query's dimensions."""

    metricName: str | None = None
    metricNamespace: str | None = None
    searchQuery: str | None = None
    dimensions: list[AlertDimension] | None = None  # null in a Simple Log Alert

    @property
    def pipeline_names(self) -> set[str]:
        names_pipeline = bool(self.metricName and PIPELINE_METRIC.match(self.metricName))
        return {
            dimension.value
            for dimension in self.dimensions or []
            if dimension.value
            and (dimension.name.lower() in PIPELINE_DIMENSIONS or (names_pipeline and dimension.name.lower() == "name"))
        }


class AlertCondition(_Lenient):
    windowStartTime: AlertTime | None = None  # null in a Simple Log Alert
    windowEndTime: AlertTime | None = None
    allOf: list[AlertCriterion] | None = None


class AlertContext(_Lenient):
    """The alert's cause: `condition` for metric and log search (v2) alerts; the capitalised fields for log search
    alerts from Log Analytics or Application Insights (v1)."""

    condition: AlertCondition | None = None
    SearchQuery: str | None = None
    SearchIntervalStartTimeUtc: AlertTime | None = None
    # spelt with a small t in every sample, with a capital one in the field table
    SearchIntervalEndtimeUtc: Annotated[
        AlertTime | None, Field(validation_alias=AliasChoices("SearchIntervalEndtimeUtc", "SearchIntervalEndTimeUtc"))
    ] = None
    Dimensions: list[AlertDimension] | None = None
    AffectedConfigurationItems: list[str] | None = None

    @property
    def criteria(self) -> list[AlertCriterion]:
        return (self.condition.allOf if self.condition else None) or []


class AlertEssentials(_Lenient):
    alertId: str
    monitorCondition: Literal["Fired", "Resolved"]
    firedDateTime: AlertTime
    signalType: str | None = None
    monitoringService: str | None = None
    alertTargetIDs: list[str] | None = None  # null in cost alerts, absent in some log alerts
    configurationItems: list[str] | None = None
    targetResourceType: str | None = None


class AlertData(_Lenient):
    essentials: AlertEssentials
    alertContext: AlertContext | None = None


class AzureMonitorAlert(_Lenient):
    schemaId: Literal["azureMonitorCommonAlertSchema"]
    data: AlertData

    @property
    def context(self) -> AlertContext:
        return self.data.alertContext or AlertContext()

    @property
    def pipeline_names(self) -> set[str]:
        """The pipelines the alert is about; none: it does not say (look them all up)."""
        context = self.context
        names = set().union(*(criterion.pipeline_names for criterion in context.criteria))
        return names | {
            dimension.value
            for dimension in context.Dimensions or []
            if dimension.value and dimension.name.lower() in PIPELINE_DIMENSIONS
        }

    @property
    def window(self) -> tuple[datetime, datetime]:
        """The evaluation window the alert fired for, from whichever context carries it; the fired time stands in for
        a missing start or end (a Simple Log Alert has neither)."""
        context, fired = self.context, self.data.essentials.firedDateTime
        condition = context.condition or AlertCondition()
        start = condition.windowStartTime or context.SearchIntervalStartTimeUtc
        end = condition.windowEndTime or context.SearchIntervalEndtimeUtc or fired
        return min(start or fired, end), max(end, fired)


PAYLOAD_MODELS: dict[str, type[BaseModel]] = {
    WebhookDelivery.Source.DATABRICKS: DatabricksNotification,
    WebhookDelivery.Source.AZURE_MONITOR: AzureMonitorAlert,
    WebhookDelivery.Source.ADF_CALLBACK: AdfCallback,
}
SOURCE_KIND: dict[str, str] = {
    WebhookDelivery.Source.DATABRICKS: Connection.Kind.DATABRICKS,
    WebhookDelivery.Source.AZURE_MONITOR: Connection.Kind.ADF,
    WebhookDelivery.Source.ADF_CALLBACK: Connection.Kind.ADF,
}


def payload_parse(source: str, body: bytes) -> BaseModel:
    """The payload as its model, or PayloadError naming what is wrong (the first problem, with its field path)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise PayloadError(f"body: JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)") from exc
    except ValueError as exc:  # an integer past Python's digit limit (sys.get_int_max_str_digits)
        raise PayloadError("body: a JSON number has too many digits") from exc
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    if _depth_over(data, MAX_JSON_DEPTH):
        raise PayloadError(f"body: JSON nested too deeply (more than {MAX_JSON_DEPTH} levels)")
    try:
        return PAYLOAD_MODELS[source].model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or "body"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PayloadError(f"{path}: {first['msg']}{more}") from exc


def _depth_over(data: Any, limit: int) -> bool:
    """Whether JSON data nests deeper than `limit` (iterative: the depth it checks must not exhaust the stack)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            pending.extend((child, depth + 1) for child in (value.values() if isinstance(value, dict) else value))
    return False


@dataclass(frozen=True)
class Authentication:
    problem: str  # empty when the request is authenticated
    signature: str = ""  # the signature that authenticated it, whose replay must be refused; empty for a token


def request_authenticate(
    *, secret: str, body: bytes, headers: Mapping[str, str], query_token: str | None, now: float
) -> Authentication:
    """Whether the request proves knowledge of the connection's webhook secret (empty `secret`: the URL names no
    enabled connection with one, and the answer must not say so): the secret itself in X-AIMS-Token, as a `token`
    query parameter (Azure Monitor cannot set headers) or as the password of HTTP Basic auth (Databricks webhook
    destinations), or X-AIMS-Signature "sha256=<hex HMAC-SHA256 of '<X-AIMS-Timestamp>.' + body>" with a timestamp
    (unix seconds) within SIGNATURE_TOLERANCE_SECONDS. Every comparison is constant-time, and as many are made
    whether or not the connection exists."""
    expected = (secret or _DUMMY_SECRET).encode()
    presented = [headers.get(TOKEN_HEADER), query_token, _basic_password(headers.get("Authorization"))]
    matched = False
    for candidate in presented:
        if candidate is not None:
            matched |= hmac.compare_digest(_utf8(candidate), expected)
    signature = headers.get(SIGNATURE_HEADER)
    if signature is None:
        return Authentication(problem="" if matched and secret else NO_SECRET)
    signature = signature.strip().lower()
    timestamp = headers.get(TIMESTAMP_HEADER, "").strip()
    digest = "sha256=" + hmac.new(expected, _utf8(timestamp) + b"." + body, hashlib.sha256).hexdigest()
    signed = hmac.compare_digest(_utf8(signature), digest.encode())
    if matched and secret:
        return Authentication(problem="")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return Authentication(problem=f"{TIMESTAMP_HEADER}: a signed request needs its unix time in seconds")
    if abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        return Authentication(
            problem=f"{TIMESTAMP_HEADER}: more than {SIGNATURE_TOLERANCE_SECONDS} seconds from AIMS's clock"
        )
    return Authentication(problem="", signature=signature) if signed and secret else Authentication(problem=NO_SECRET)


def _utf8(text: str) -> bytes:
    """Header text as bytes: the test client and ASGI servers may hand over any code point (surrogates too)."""
    return text.encode("utf-8", errors="surrogatepass")


def _basic_password(authorization: str | None) -> str | None:
    """The password of `Basic base64(user:password)` credentials; None for any other or malformed form."""
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except ValueError:  # not ASCII, not base64 (binascii.Error), not UTF-8 (UnicodeDecodeError)
        return None
    return decoded.partition(":")[2]
