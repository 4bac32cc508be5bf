"""The failure callback an ADF pipeline sends from a Web activity on its failure path: what it says, and what AIMS
makes of it.

No service defines this payload: the pipeline's author writes the body, interpolating system variables and the failed
activity's error (`@{pipeline().RunId}`, `@{activity('Copy').error.message}`). So keys come in any case and spelling,
every value arrives as text, any key may be missing, and an expression the author mistyped arrives unresolved. The
callback is only a pointer, like the other webhooks: the run, its state and its error are read from the platform,
never taken from the body (which may be truncated or forged); the body's own error is shown only when the platform
has none.

The Web activity runs inside the failing run, so the run is usually still in progress when AIMS reads it, and ends
failed only once the callback has been answered (or succeeds, when the failure path handled the failure). A delivery
whose run has not ended yet waits and is read again, for up to CALLBACK_WAIT.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from aimsweb.redact import redact
from aimsweb.terminal import strip_terminal_escapes
from monitors.clients.base import RunRecord
from monitors.models import Connection, PipelineRun, WebhookDelivery

# Read the run again this long after a look that found it still running, for up to CALLBACK_WAIT after receipt;
# then the next poll has the last word.
CALLBACK_RECHECK = timedelta(seconds=60)
CALLBACK_WAIT = timedelta(minutes=30)
# Without a trigger time, how far before its receipt the failed run may have been last updated (clock skew: the run
# ends after its callback is sent).
CALLBACK_LOOKBACK = timedelta(minutes=10)
FINISHED = {PipelineRun.Status.SUCCEEDED, PipelineRun.Status.FAILED, PipelineRun.Status.CANCELLED}

# Key spellings, compared lower-cased without separators (runId, RunId, RUN_ID, run-id), per documented field.
ALIASES = {
    "runid": "runId",
    "pipelinerunid": "runId",
    "pipelinename": "pipelineName",
    "pipeline": "pipelineName",
    "datafactoryname": "dataFactoryName",
    "datafactory": "dataFactoryName",
    "factoryname": "dataFactoryName",
    "failedactivity": "failedActivity",
    "activityname": "failedActivity",
    "activity": "failedActivity",
    "errorcode": "errorCode",
    "message": "message",
    "errormessage": "message",
    "triggertime": "triggerTime",
}
ERROR_OBJECT_KEY = "error"  # `@activity('X').error` put in whole: {errorCode, message, failureType, target}
# An ADF expression left as written: the author quoted it where ADF does not interpolate, or mistyped it.
UNRESOLVED = re.compile(r"^\s*@|@\{|@(?:pipeline|activity|trigger|variables)\(", re.IGNORECASE)
RUN_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _text(value: Any) -> str | None:
    """A value as the text ADF's interpolation makes of it; None when it says nothing (null, empty, unresolved, or
    an object where text was expected)."""
    if isinstance(value, bool) or value is None or isinstance(value, dict | list):
        return None
    text = str(value).strip()
    return None if not text or UNRESOLVED.search(text) else text


def _run_id(value: str) -> str:
    if not RUN_ID.match(value):
        raise PydanticCustomError("adf_run_id", "not an ADF pipeline run id (a GUID)")
    return value.lower()


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class AdfCallback(BaseModel):
    """A failure callback in the documented spellings (pipeline-apis.md 4.2), whatever the body's own."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    runId: Annotated[str, AfterValidator(_run_id)] | None = None
    pipelineName: Annotated[str, Field(max_length=260)] | None = None
    dataFactoryName: Annotated[str, Field(max_length=63)] | None = None
    failedActivity: str | None = None
    errorCode: str | None = None
    message: str | None = None
    triggerTime: Annotated[datetime, AfterValidator(_utc)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _documented_keys(cls, data: Any) -> Any:
        """The body's keys mapped to the documented ones, the first that says something winning; an `error` object
        gives its errorCode and message where the body has none of its own."""
        if not isinstance(data, dict):
            return data
        found: dict[str, str] = {}
        nested = [
            value for key, value in data.items() if _key(str(key)) == ERROR_OBJECT_KEY and isinstance(value, dict)
        ]
        for key, value in [*data.items(), *(item for error in nested for item in error.items())]:
            field = ALIASES.get(_key(str(key)))
            text = _text(value)
            if field and text is not None and field not in found:
                found[field] = text
        return found

    @model_validator(mode="after")
    def _points_somewhere(self) -> "AdfCallback":
        if not (self.runId or self.pipelineName):
            raise PydanticCustomError(
                "adf_callback_pointer",
                "names no run: give runId (@{pipeline().RunId}) or pipelineName (@{pipeline().Pipeline}), in any case",
            )
        return self

    @property
    def says(self) -> str:
        """What the callback itself reports, for the delivery when the platform has nothing: unverified."""
        where = f"{self.failedActivity}: " if self.failedActivity else ""
        code = f"[{self.errorCode}] " if self.errorCode else ""
        return f"{where}{code}{self.message or 'no message'}"


def callback_target_problem(callback: AdfCallback, connection: Connection) -> str:
    """Why a callback is not about the connection's factory, or "" when it is (or does not say): one Logic App or
    endpoint URL is easily copied from one factory's pipelines into another's."""
    named = callback.dataFactoryName
    if named and named.casefold() != connection.factory_name.casefold():
        return f"callback is from factory {named}, not factory {connection.factory_name}"
    return ""


@dataclass(frozen=True)
class CallbackLookup:
    """What a callback without a run id needs read, in the shape the alert lookups take (monitors.alerts): its
    pipeline's failed runs updated between its trigger (or shortly before its receipt) and now."""

    pipeline_names: set[str]
    window: tuple[datetime, datetime]


def callback_lookup(callback: AdfCallback, *, received: datetime, now: datetime) -> CallbackLookup:
    start = min(callback.triggerTime or received - CALLBACK_LOOKBACK, received)
    return CallbackLookup(
        pipeline_names={callback.pipelineName} if callback.pipelineName else set(), window=(start, max(received, now))
    )


def callback_run_take(delivery: WebhookDelivery, record: RunRecord, *, now: datetime) -> bool:
    """Set the delivery's outcome from the run the callback names, as the platform reports it now; True when the run
    has ended and is to be stored like a polled one."""
    if record.status not in FINISHED:
        _wait_or_give_up(delivery, f"run {record.external_run_id} is still {record.status}", now=now)
        return False
    delivery.run_ids = [record.external_run_id]
    if record.status != PipelineRun.Status.FAILED:
        delivery.status = WebhookDelivery.Status.IGNORED
        delivery.error = f"run {record.external_run_id} ended {record.status}: its failure path handled the failure"
    return True


def callback_lookup_settle(delivery: WebhookDelivery, *, now: datetime) -> None:
    """A callback whose lookup found no failed run: its run may not have ended yet, so it waits for a while."""
    if delivery.status == WebhookDelivery.Status.IGNORED and not delivery.run_ids:
        _wait_or_give_up(delivery, "no failed run of its pipeline yet", now=now)


def _wait_or_give_up(delivery: WebhookDelivery, why: str, *, now: datetime) -> None:
    if now - delivery.created_at < CALLBACK_WAIT:
        # Accepted again, held for CALLBACK_RECHECK: the minute tick's drain takes it up then.
        delivery.status, delivery.claimed_until = WebhookDelivery.Status.ACCEPTED, now + CALLBACK_RECHECK
        delivery.error = f"waiting: {why}"
    else:
        waited = int(CALLBACK_WAIT.total_seconds() // 60)
        delivery.status = WebhookDelivery.Status.IGNORED
        delivery.error = f"{why} after {waited} min: the next poll stores its outcome"


def callback_fallback_note(deliveries: list[WebhookDelivery]) -> None:
    """For callbacks whose run the platform stored with no error at all, show what the callback said (cleaned and
    redacted like stored errors, marked unverified); the run itself keeps the platform's word."""
    callbacks = [
        d
        for d in deliveries
        if d.source == WebhookDelivery.Source.ADF_CALLBACK and d.status == WebhookDelivery.Status.PROCESSED
    ]
    run_ids = {run_id for delivery in callbacks for run_id in delivery.run_ids}
    if not run_ids:
        return
    silent = set(
        PipelineRun.objects.filter(
            connection_id=callbacks[0].connection_id, external_run_id__in=run_ids, error_message="", error_code=""
        ).values_list("external_run_id", flat=True)
    )
    for delivery in callbacks:
        if silent & set(delivery.run_ids):
            said = AdfCallback.model_validate_json(delivery.body).says
            note = f"the platform gave no error; the callback said (unverified): {said}"
            delivery.error = redact(strip_terminal_escapes(note))[:2000]
