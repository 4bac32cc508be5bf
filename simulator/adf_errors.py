"""ADF activity error objects, as the service reports them.

About a third of the ADF corpus messages are whole error objects (`{"errorCode": ..., "message": ...,
"failureType": ..., "target": ..., "details": ...}`, or an ARM `{"error": {...}}` body), captured from real activity
output. They go into the failed activity's `error.message` as they are, inside an outer error whose errorCode
(the row's code), failureType (from the label) and target (the simulated activity) disagree with the inner object:
the published shape of an activity reporting a failure it received. Which failures get one follows from the seeded
corpus draw, so it is deterministic per seed.
"""

from __future__ import annotations

import json
from typing import Any

from simulator.corpus import CorpusRow

SYSTEM_FAILURE_LABELS = frozenset({"transient", "resource"})
DEFAULT_ERROR_CODE = "2200"


def failure_type(row: CorpusRow) -> str:
    return "SystemError" if row.label in SYSTEM_FAILURE_LABELS else "UserError"


def activity_error(row: CorpusRow, target: str) -> dict[str, Any]:
    """The `error` object of the activity that failed with this corpus row."""
    return {
        "errorCode": row.error_code or DEFAULT_ERROR_CODE,
        "message": row.error_message,
        "failureType": failure_type(row),
        "target": target,
        "details": [],
    }


def _inner_object(message: str) -> dict[str, Any] | None:
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        data = data["error"]
    if isinstance(data, dict) and isinstance(data.get("message"), str) and data["message"].strip():
        return data
    return None


def is_enveloped(row: CorpusRow) -> bool:
    """Whether the row's message is a whole error object."""
    return _inner_object(row.error_message) is not None


def specific_error(row: CorpusRow) -> str:
    """The error a monitoring tool should store: the inner object's message when the row is one, else the row."""
    message = row.error_message
    while (inner := _inner_object(message)) is not None:
        message = inner["message"]
    return message


def specific_error_code(row: CorpusRow) -> str:
    """The code of the innermost error object that has one, else the outer code the activity reports."""
    code, message = row.error_code or DEFAULT_ERROR_CODE, row.error_message
    while (inner := _inner_object(message)) is not None:
        code = str(inner.get("errorCode") or inner.get("code") or code)
        message = inner["message"]
    return code
