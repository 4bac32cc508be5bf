"""Envelopes: peel the wrappers platforms put around an error so the classifier can judge the innermost cause.

An ADF activity failure is JSON whose ``message`` may itself be JSON (a data flow's ``{"StatusCode": "DF-...",
"Message": "Job failed due to reason: ..."}``), prefixed by "Operation on target X failed:"; a copy activity chains
``ErrorCode=X,'Type=A,Message=...,Source=...,''Type=B,Message=...'`` where the last ``Type=`` is the inner exception;
Databricks answers ``{"error_code", "message"}``; a JVM trace ends in its innermost "Caused by:", a Python traceback in
its last line; dbt, dagster and airflow wrap all of these once more. JDBC/ODBC drivers put their own bracketed
description before the server's answer (``[Simba][SparkJDBCDriver](500593) Communication link failure. ... Reason:
HTTP Response code: 403``), and command-line tools print ``Error: <what failed>: <the API's message>``, terraform adding
a ``│`` gutter of location lines. ``unwrap`` returns every layer, outermost first, so the wrappers (and their codes)
stay available as weaker evidence.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

MAX_LAYERS = 8
MIN_INNER = 8  # an inner text shorter than this carries no cause worth judging on its own

_I = re.IGNORECASE
_JSON_MESSAGE_KEYS = ("message", "Message", "errorMessage", "error_message", "error", "Error")
_JSON_CODE_KEYS = ("errorCode", "error_code", "StatusCode", "code", "failureType")
_OPERATION_ON_TARGET = re.compile(r"^\s*Operation on target .{1,200}? failed:\s*", _I)
_INNER_ACTIVITY = re.compile(r"Inner activity name:[^,]{1,200},\s*Error:\s*", _I)
_DATA_FLOW_REASON = re.compile(
    r"^\s*Job failed due to reason:\s*(?:at (?:Source|Sink|\w[\w ]{0,40}) '[^']{0,200}':\s*)?", _I
)
_SIDE = re.compile(r"^\s*Failure happened on '\w+' side\.\s*", _I)
# copy activity chain: every "Type=<exception>,Message=" starts one exception; the last one is the innermost
_COPY_TYPE = re.compile(r"'{0,2}Type=([\w.`]*),\s*Message=", _I)
_COPY_CODE = re.compile(r"\bErrorCode\s*=\s*([A-Za-z][\w-]+)")
_CAUSED_BY = re.compile(r"(?:^|\n)\s*Caused by:\s*", _I)
_TRACEBACK = re.compile(r"Traceback \(most recent call last\):", _I)
_EXCEPTION_LINE = re.compile(
    r"^(?P<name>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure|Failed))(?::\s*(?P<rest>.*))?$"
)
# Databricks cluster launch failures quote the cloud's own error: "Azure error code: X\nAzure error message: Y"
_CLOUD_ERROR = re.compile(r"\b(?:Azure|AWS|GCP|Cloud provider) error code:\s*(?P<code>[\w.-]+)\s*", _I)
_STAGE_FAILURE = re.compile(r"most recent failure: Lost task [\d.]+ in stage [\d.]+ \([^)]*\)(?: \([^)]*\))?:\s*", _I)
_PY4J = re.compile(r"An error occurred while calling [\w.]+\.\s*\n?:\s*", _I)
_DBT = re.compile(r"^\s*(?:Database|Runtime) Error in (?:model|test|seed|snapshot) [^\n]*\n", _I)
_DAGSTER = re.compile(
    r"dagster[\w.]*\.(?:DagsterExecutionStepExecutionError|DagsterUserCodeExecutionError|Failure)[^\n]*:\s*"
    r"(?:\n\s*)?(?:[\s\S]*?The above exception was (?:caused by|the direct cause of) the following exception:\s*\n)?",
    _I,
)
_AIRFLOW = re.compile(r"^\s*(?:airflow\.exceptions\.)?Airflow(?:Exception|TaskTimeout|FailException)?:\s*", _I)
# Simba-built drivers (Databricks, Spark, ODBC): "[Vendor][Driver](number) description. ... Reason: <server answer>"
_DRIVER_REASON = re.compile(r"\[\w+\](?:\[[\w ]+\])+\s*\(\d+\)[^\n]*?\bReason:\s*", _I)
# CLI error lines (click, the Databricks CLI, terraform): "Error: cannot create secret scope: <API message>"
_CLI_ERROR = re.compile(
    r"^(?:\s*\$ [^\n]*\n)?[\s│╷╵]*Error:[ \t]*(?:(?:cannot|failed to|unable to) [\w -]{1,60}?:[ \t]*)?"
)
# terraform diagnostics: a "│" gutter whose lines after the summary only say where ("with <address>,", "on <file> line
# N, in resource ...:", the quoted source line): location, not cause
_GUTTER = re.compile(r"^[│╷╵] ?", re.MULTILINE)
_TERRAFORM_LOCATION = re.compile(r"^\s*(?:with [\w.\[\]\"-]+,|on \S+ line \d+.*|\d+: .*)$", re.MULTILINE)
# "java.lang.RuntimeException: java.sql.SQLException: ..." - a wrapper whose message is another exception
_EXCEPTION_CHAIN = re.compile(
    r"^\s*(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error):\s*(?=(?:[a-z_][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error)\b)"
)


# Log line prefixes that tools put before every line of an error they print: dbt's "01:45:22  ", ISO timestamps,
# airflow's "[2024-05-01, 10:00:00 UTC] {taskinstance.py:1234} ERROR - ". They carry no cause and break line-anchored
# shapes (a dbt "Runtime Error in model" line, a "Caused by:" line), so they go before anything is matched.
_LOG_PREFIX = re.compile(
    r"^[ \t]*(?:\[?\d{4}-\d\d-\d\d(?:[T ,]+\d\d:\d\d:\d\d(?:[.,]\d+)?)?(?: ?(?:Z|UTC|[+-]\d\d:?\d\d))?\]?[ \t]+"
    r"|\d\d:\d\d:\d\d(?:[.,]\d+)?[ \t]{1,4})(?:\{[\w.-]+:\d+\}[ \t]+(?:ERROR|WARNING|INFO|CRITICAL)[ \t]+-[ \t]+)?",
    re.MULTILINE,
)


def strip_log_prefixes(text: str) -> str:
    """The text without the timestamp (and airflow logger) prefixes of the log lines it was pasted from."""
    return _LOG_PREFIX.sub("", text) if _LOG_PREFIX.search(text) else text


@dataclass(frozen=True)
class Envelope:
    layers: tuple[str, ...]  # outermost (the whole message) first, innermost cause last
    outer_codes: tuple[str, ...]  # codes the wrappers carried (errorCode, StatusCode, ErrorCode=...): weaker evidence

    @property
    def innermost(self) -> str:
        return self.layers[-1]

    @property
    def wrapped(self) -> bool:
        return len(self.layers) > 1


def unwrap(text: str) -> Envelope:
    """Every layer of ``text``, outermost first; each inner layer is the cause its wrapper reported."""
    layers = [text]
    codes: list[str] = []
    current = text
    for _ in range(MAX_LAYERS):
        for peel in _PEELERS:
            found = peel(current)
            if found is None:
                continue
            inner, inner_codes = found
            inner = inner.strip()
            if len(inner) >= MIN_INNER and inner != current.strip():
                codes.extend(inner_codes)
                layers.append(inner)
                current = inner
                break
        else:
            break
    return Envelope(tuple(layers), tuple(dict.fromkeys(c for c in codes if c)))


Peeled = tuple[str, list[str]] | None


def _peel_json(text: str) -> Peeled:
    """An error object (ADF activity error, data flow status, Databricks error body), possibly after a prefix."""
    start = text.find("{")
    if start < 0 or start > 400:
        return None
    try:
        value, end = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    message = next((value[k] for k in _JSON_MESSAGE_KEYS if isinstance(value.get(k), str | dict)), None)
    if isinstance(message, dict):  # {"error": {"code": ..., "message": ...}}
        codes = [str(message[k]) for k in _JSON_CODE_KEYS if isinstance(message.get(k), str | int)]
        message = message.get("message") if isinstance(message.get("message"), str) else None
    else:
        codes = []
    if not isinstance(message, str):
        return None
    codes = [str(value[k]) for k in _JSON_CODE_KEYS if isinstance(value.get(k), str | int)] + codes
    trailing = text[end:].strip()
    return (message + ("\n" + trailing if trailing else ""), codes)


def _peel_prefix(pattern: re.Pattern[str]) -> Callable[[str], Peeled]:
    def peel(text: str) -> Peeled:
        match = pattern.search(text)
        return (text[match.end() :], []) if match else None

    return peel


def _peel_copy_chain(text: str) -> Peeled:
    """ADF copy activity: the last ``Type=...,Message=`` of the chain is the innermost exception."""
    types = list(_COPY_TYPE.finditer(text))
    if not types:
        return None
    last = types[-1]
    inner = f"{last.group(1)}: {text[last.end() :]}" if last.group(1) else text[last.end() :]
    if last.start() == 0 and len(types) == 1:
        return (inner, []) if inner != text else None
    return inner, _COPY_CODE.findall(text[: last.start()])


def _peel_caused_by(text: str) -> Peeled:
    """JVM: the last "Caused by:" is the innermost exception."""
    starts = [m.end() for m in _CAUSED_BY.finditer(text)]
    return (text[starts[-1] :], []) if starts else None


def _peel_traceback(text: str) -> Peeled:
    """Python: after a traceback, the last unindented ``Name: message`` line is the exception that ended it."""
    match = _TRACEBACK.search(text)
    if not match:
        return None
    for line in reversed(text[match.end() :].splitlines()):
        if line and not line[0].isspace() and (found := _EXCEPTION_LINE.match(line.strip())):
            return line.strip(), [found["name"]]
    return None


def _peel_driver_reason(text: str) -> Peeled:
    """JDBC/ODBC driver: its description ("Communication link failure") wraps the server's answer after "Reason:"."""
    match = _DRIVER_REASON.search(text)
    return (text[match.end() :], []) if match else None


def _peel_cli_error(text: str) -> Peeled:
    """A CLI's "Error: cannot <do X>: <message>" (after the command line, if pasted with it): the message is the
    cause; terraform's "│" gutter and its location lines are dropped."""
    match = _CLI_ERROR.match(text)
    if not match:
        return None
    inner = text[match.end() :]
    if _GUTTER.search(inner):
        inner = _TERRAFORM_LOCATION.sub("", _GUTTER.sub("", inner))
    return inner, []


def _peel_cloud_error(text: str) -> Peeled:
    match = _CLOUD_ERROR.search(text)
    return (f"{match['code']}: {text[match.end() :]}", []) if match else None


def _peel_stage_failure(text: str) -> Peeled:
    """Spark: "Job aborted due to stage failure ... most recent failure: Lost task ...: <cause>"."""
    match = _STAGE_FAILURE.search(text)
    return (text[match.end() :], []) if match else None


def _peel_exception_chain(text: str) -> Peeled:
    match = _EXCEPTION_CHAIN.match(text)
    return (text[match.end() :], []) if match else None


_PEELERS: tuple[Callable[[str], Peeled], ...] = (
    _peel_prefix(_OPERATION_ON_TARGET),
    _peel_prefix(_INNER_ACTIVITY),
    _peel_json,
    _peel_prefix(_DATA_FLOW_REASON),
    _peel_prefix(_SIDE),
    _peel_copy_chain,
    _peel_prefix(_DBT),
    _peel_prefix(_DAGSTER),
    _peel_prefix(_AIRFLOW),
    _peel_traceback,
    _peel_caused_by,
    _peel_prefix(_PY4J),
    _peel_stage_failure,
    _peel_driver_reason,
    _peel_cli_error,
    _peel_cloud_error,
    _peel_exception_chain,
)
