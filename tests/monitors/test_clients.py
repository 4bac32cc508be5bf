"""Client-side logic that needs no platform: back-off, status mapping and error choice."""

from datetime import UTC, datetime

import pytest

from monitors.clients import client_for
from monitors.clients.adf import _parse_time
from monitors.clients.base import SourceError, call_twice, call_with_backoff
from monitors.clients.databricks import _status, specific_error
from monitors.models import PipelineRun
from tests.monitors.factories import make_connection


def test_backoff_retries_retryable_then_succeeds_honouring_retry_after():
    sleeps, attempts = [], iter([SourceError("429", retryable=True, retry_after=7), SourceError("503", retryable=True)])

    def call():
        error = next(attempts, None)
        if error:
            raise error
        return "ok"

    assert call_with_backoff(call, attempts=3, max_delay=30, sleep=sleeps.append) == "ok"
    assert len(sleeps) == 2 and sleeps[0] >= 7


def test_call_twice_survives_one_dropped_connection_and_gives_up_on_the_second():
    outcomes = iter([SourceError("RemoteDisconnected", retryable=True), "ok"])
    calls = []

    def call():
        calls.append(1)
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert call_twice(call) == "ok"
    outcomes = iter([SourceError("503", retryable=True)] * 3)
    with pytest.raises(SourceError, match="503"):
        call_twice(call)
    assert len(calls) == 4


def test_backoff_not_retryable_raised_at_once():
    sleeps = []

    def call():
        raise SourceError("403 forbidden")

    with pytest.raises(SourceError, match="403"):
        call_with_backoff(call, attempts=5, sleep=sleeps.append)
    assert sleeps == []


def test_backoff_gives_up_after_attempts():
    sleeps = []

    def call():
        raise SourceError("500", retryable=True)

    with pytest.raises(SourceError):
        call_with_backoff(call, attempts=4, max_delay=1, sleep=sleeps.append)
    assert len(sleeps) == 3 and all(0 <= s <= 1 for s in sleeps)


GENERIC_TASK = {"state": {"state_message": "Workload failed, see run output for details"}}
RUN = {"state": {"state_message": "Task t failed. See the task run for details."}}


@pytest.mark.parametrize(
    ("output", "task", "run", "expected"),
    [
        (
            {"error": "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] x", "error_trace": "tb\nother"},
            GENERIC_TASK,
            RUN,
            "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] x",
        ),
        (
            {"error": "", "error_trace": "Traceback\n  File x\nValueError: bad row 3\n"},
            GENERIC_TASK,
            RUN,
            "ValueError: bad row 3",
        ),
        (
            {},
            {"state": {"state_message": "Cluster terminated: SPOT_INSTANCE_TERMINATION"}},
            RUN,
            "Cluster terminated: SPOT_INSTANCE_TERMINATION",
        ),
        (
            {},
            GENERIC_TASK,
            {"status": {"termination_details": {"message": "Library installation failed: numpy"}}},
            "Library installation failed: numpy",
        ),
        ({}, GENERIC_TASK, RUN, "Workload failed, see run output for details"),
    ],
    ids=["error", "trace", "task-state", "run-termination", "only-generic"],
)
def test_specific_error_priority(output, task, run, expected):
    assert specific_error(output=output, task=task, run=run) == expected


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ({"status": {"state": "RUNNING"}}, PipelineRun.Status.RUNNING),
        ({"status": {"state": "QUEUED"}}, PipelineRun.Status.QUEUED),
        ({"status": {"state": "TERMINATED", "termination_details": {"code": "SUCCESS"}}}, PipelineRun.Status.SUCCEEDED),
        (
            {"status": {"state": "TERMINATED", "termination_details": {"code": "RUN_EXECUTION_ERROR"}}},
            PipelineRun.Status.FAILED,
        ),
        (
            {"status": {"state": "TERMINATED", "termination_details": {"code": "USER_CANCELED"}}},
            PipelineRun.Status.CANCELLED,
        ),
        ({"status": {"state": "TERMINATED", "termination_details": {"code": "CANCELED"}}}, PipelineRun.Status.FAILED),
        ({"status": {"state": "TERMINATED", "termination_details": {"code": "SKIPPED"}}}, PipelineRun.Status.SKIPPED),
        ({"state": {"life_cycle_state": "INTERNAL_ERROR", "result_state": "FAILED"}}, PipelineRun.Status.FAILED),
        ({"state": {"life_cycle_state": "TERMINATED", "result_state": "SUCCESS"}}, PipelineRun.Status.SUCCEEDED),
    ],
)
def test_databricks_status_mapping(run, expected):
    assert _status(run)[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-14T02:09:51.7731094Z", datetime(2025, 3, 14, 2, 9, 51, 773109, tzinfo=UTC)),
        ("2025-03-14T02:09:51Z", datetime(2025, 3, 14, 2, 9, 51, tzinfo=UTC)),
        ("2025-03-14T02:09:51.5", datetime(2025, 3, 14, 2, 9, 51, 500000, tzinfo=UTC)),
        ("2025-03-14T04:09:51.1234567+02:00", datetime(2025, 3, 14, 2, 9, 51, 123456, tzinfo=UTC)),
    ],
)
def test_adf_time_parsing_keeps_zone(text, expected):
    parsed = _parse_time(text)

    assert parsed == expected and parsed.tzinfo is not None


def test_adf_time_not_iso_refused():
    with pytest.raises(SourceError, match="not ISO 8601"):
        _parse_time("14/03/2025 02:09")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"is_simulator": False, "host": "http://adb-1.azuredatabricks.net"}, "must use https"),
        ({"is_simulator": True, "host": "http://10.1.2.3:8765"}, "127.0.0.1 or localhost"),
    ],
)
def test_client_for_refuses_unsafe_transport_even_if_saved(fields, message):
    connection = make_connection(kind="databricks", auth_method="pat", **fields)

    with pytest.raises(SourceError, match=message):
        client_for(connection)


@pytest.mark.django_db
def test_client_for_builds_clients_for_both_kinds():
    adf = client_for(make_connection())
    dbx = client_for(
        make_connection(
            kind="databricks", host="https://adb-1.azuredatabricks.net", is_simulator=False, auth_method="pat"
        )
    )

    assert type(adf).__name__ == "AdfClient" and adf.tracks_start_time is False
    assert type(dbx).__name__ == "DatabricksClient" and dbx.tracks_start_time is True
