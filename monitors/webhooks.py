"""Failure webhooks: who may send them, and what their payloads must look like.

Databricks sends a job notification (event type, run and job ids, no error); Azure Monitor sends a common-alert-schema
alert for a factory metric (no run id at all). Both are only pointers: the processing task looks the runs up through
the platform API and ingests them the way polling does.
"""

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from monitors.models import Connection, WebhookDelivery

MAX_BODY_BYTES = 1024 * 1024
TOKEN_HEADER = "X-AIMS-Token"
SIGNATURE_HEADER = "X-AIMS-Signature"
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


class AlertDimension(_Lenient):
    name: str
    value: str


class AlertCriterion(_Lenient):
    metricName: str | None = None
    dimensions: list[AlertDimension] = []


class AlertCondition(_Lenient):
    windowStartTime: datetime | None = None
    windowEndTime: datetime | None = None
    allOf: list[AlertCriterion] = []


class AlertContext(_Lenient):
    condition: AlertCondition | None = None


class AlertEssentials(_Lenient):
    alertId: str
    monitorCondition: Literal["Fired", "Resolved"]
    firedDateTime: datetime
    alertTargetIDs: list[str] = []
    configurationItems: list[str] = []


class AlertData(_Lenient):
    essentials: AlertEssentials
    alertContext: AlertContext | None = None


class AzureMonitorAlert(_Lenient):
    schemaId: Literal["azureMonitorCommonAlertSchema"]
    data: AlertData

    @property
    def pipeline_names(self) -> set[str]:
        condition = self.data.alertContext.condition if self.data.alertContext else None
        return {
            dimension.value
            for criterion in (condition.allOf if condition else [])
            for dimension in criterion.dimensions
            if dimension.name.lower() in {"name", "pipelinename"}
        }

    @property
    def window(self) -> tuple[datetime, datetime]:
        condition = self.data.alertContext.condition if self.data.alertContext else None
        fired = self.data.essentials.firedDateTime
        start = (condition.windowStartTime if condition else None) or fired
        end = (condition.windowEndTime if condition else None) or fired
        return start, max(end, fired)


PAYLOAD_MODELS: dict[str, type[_Lenient]] = {
    WebhookDelivery.Source.DATABRICKS: DatabricksNotification,
    WebhookDelivery.Source.AZURE_MONITOR: AzureMonitorAlert,
}
SOURCE_KIND = {
    WebhookDelivery.Source.DATABRICKS: Connection.Kind.DATABRICKS,
    WebhookDelivery.Source.AZURE_MONITOR: Connection.Kind.ADF,
}


def payload_parse(source: str, body: bytes) -> _Lenient:
    """The payload as its model, or PayloadError naming what is wrong (the first problem, with its field path)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    try:
        return PAYLOAD_MODELS[source].model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or "body"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise PayloadError(f"{path}: {first['msg']}{more}") from exc


def request_authenticated(*, secret: str, body: bytes, headers: dict[str, str], query_token: str | None) -> bool:
    """True when the request proves knowledge of the connection's webhook secret: the secret itself in
    X-AIMS-Token, as a `token` query parameter (Azure Monitor cannot set headers) or as the password of HTTP Basic
    auth (Databricks webhook destinations), or an HMAC-SHA256 of the body in X-AIMS-Signature ("sha256=<hex>").
    Every comparison is constant-time."""
    if not secret:
        return False
    expected = secret.encode()
    presented = [headers.get(TOKEN_HEADER), query_token, _basic_password(headers.get("Authorization"))]
    matched = False
    for candidate in presented:
        if candidate is not None:
            matched |= hmac.compare_digest(candidate.encode(), expected)
    signature = headers.get(SIGNATURE_HEADER)
    if signature is not None:
        digest = "sha256=" + hmac.new(expected, body, hashlib.sha256).hexdigest()
        matched |= hmac.compare_digest(signature.strip().lower().encode(), digest.encode())
    return matched


def _basic_password(authorization: str | None) -> str | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded.partition(":")[2]
