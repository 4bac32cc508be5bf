"""The cause inside an ADF activity error.

An activity's `error.message` is sometimes a whole serialised error object rather than text: an Execute Pipeline
activity repeating its child's failure, a Web activity calling ARM, an activity fed another's `error`. For example
`{"errorCode": "2200", "message": "Failure happened on 'Sink' side. ErrorCode=...", "failureType": "UserError",
"target": "Copy1", "details": []}`, or an ARM body `{"error": {"code": ..., "message": ...}}`, or a data flow's
`{"StatusCode": "DF-...", "Message": ...}`. The outer errorCode, failureType and target then describe the wrapper;
the inner object names the cause, and its message is what a person (and the classifier) should read.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Activities whose failure only repeats the failure of what they ran.
WRAPPER_ACTIVITY_TYPES = frozenset({"ExecutePipeline", "ForEach", "IfCondition", "Until", "Switch"})
MAX_ENVELOPES = 4  # an envelope in an envelope happens (a child pipeline's error, re-raised by its parent)
MESSAGE_KEYS = ("message", "Message")
CODE_KEYS = ("errorCode", "code", "ErrorCode", "StatusCode")
# A cut-off envelope (the service truncates long messages) is no JSON any more; its message is still readable.
_MESSAGE_FIELD = re.compile(r'"(?:message|Message)"\s*:\s*"((?:[^"\\]|\\.)*)"')
_CODE_FIELD = re.compile(r'"(?:errorCode|code|ErrorCode|StatusCode)"\s*:\s*"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ActivityFailure:
    """What an activity's error says once unwrapped: the code, the message and the step that failed."""

    error_code: str
    error_message: str
    failed_step: str


def _text(data: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    return next((str(data[key]) for key in keys if isinstance(data.get(key), str | int) and data[key] != ""), "")


def _json_string(escaped: str) -> str:
    try:
        return json.loads(f'"{escaped}"')
    except ValueError:
        return escaped


def _inner(message: str) -> tuple[str, str, str] | None:
    """(code, message, target) of the error object serialised in `message`, or None when it is plain text."""
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        found = _MESSAGE_FIELD.search(text)
        if found is None:
            return None
        code = _CODE_FIELD.search(text)
        return (_json_string(code.group(1)) if code else ""), _json_string(found.group(1)), ""
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("error"), dict):  # an ARM error body
        data = data["error"]
    inner_message = _text(data, MESSAGE_KEYS)
    if not inner_message.strip():
        return None
    target = data.get("target")
    return _text(data, CODE_KEYS), inner_message, target if isinstance(target, str) else ""


def activity_failure(error: Mapping[str, Any], *, activity_name: str, activity_type: str) -> ActivityFailure:
    """The failure an activity's `error` object reports, with any error object serialised in its message unwrapped:
    the inner code and message win; the inner target names the step only when the outer one says nothing more
    than "this wrapper failed" (no target, or a wrapper activity)."""
    code = str(error.get("errorCode") or "")
    message = str(error.get("message") or "")
    step = activity_name or str(error.get("target") or "")
    generic_step = not error.get("target") or activity_type in WRAPPER_ACTIVITY_TYPES
    for _ in range(MAX_ENVELOPES):
        inner = _inner(message)
        if inner is None:
            break
        inner_code, message, inner_target = inner
        code = inner_code or code
        if generic_step and inner_target:
            step, generic_step = inner_target, False
    return ActivityFailure(error_code=code, error_message=message, failed_step=step)
