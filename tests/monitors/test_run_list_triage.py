"""The runs page's triage tools: time ranges, CSV/JSON export, and live rows after each ingested batch (one message
per batch); the pipelines page's live rows."""

import csv
import io
import json
from datetime import timedelta
from unittest import mock

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from aimsweb.asgi import application
from monitors.models import PipelineRun
from monitors.services import runs_ingest
from tests.monitors.factories import make_connection, make_pipeline, make_run
from tests.monitors.fakes import record

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def _row(run: PipelineRun) -> str:
    return f'id="run-{run.pk}"'


@pytest.mark.django_db
def test_runs_page_period_and_custom_range_select_by_start(viewer_client):
    now = timezone.now()
    recent = make_run(started_at=now - timedelta(minutes=10))
    older = make_run(started_at=now - timedelta(hours=30))
    until = timezone.localtime(now - timedelta(hours=29)).strftime("%Y-%m-%dT%H:%M")
    since = timezone.localtime(now - timedelta(hours=31)).strftime("%Y-%m-%dT%H:%M")

    last_hour = viewer_client.get("/runs/", {"period": "1h"}).content.decode()
    custom = viewer_client.get("/runs/", {"period": "custom", "since": since, "until": until}).content.decode()

    assert _row(recent) in last_hour and _row(older) not in last_hour
    assert _row(older) in custom and _row(recent) not in custom
    assert "period=custom" in custom  # the socket and the export keep the range
    assert '<a class="chip" href="?period=24h">24 h</a>' in custom  # a chip replaces the custom range
    assert '<a class="chip" href="?" aria-current="true">1 h</a>' in last_hour  # and clears its own


@pytest.mark.django_db
def test_runs_page_bad_range_named_and_ignored(viewer_client):
    run = make_run()

    html = viewer_client.get(
        "/runs/", {"period": "custom", "since": "2026-02-01T00:00", "until": "2026-01-01T00:00"}
    ).content.decode()

    assert "To: The end must come after the start." in html and _row(run) in html


@pytest.mark.django_db
def test_runs_export_csv_filtered_and_formula_safe(viewer_client):
    failed = make_run(error_message="-1 rows; =cmd|' /C calc'!A0")
    make_run(pipeline=failed.pipeline, status=PipelineRun.Status.SUCCEEDED, error_message="")

    response = viewer_client.get("/runs/export/", {"status": "failed"})

    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert response.status_code == 200 and response["X-Export-Total"] == "1"
    assert [int(row["id"]) for row in rows] == [failed.pk]
    assert rows[0]["error"].startswith("'-1 rows")


@pytest.mark.django_db
def test_runs_export_json_and_permission(viewer_client, no_role_user):
    run = make_run()
    outsider = Client()
    outsider.force_login(no_role_user)

    body = json.loads(b"".join(viewer_client.get("/runs/export/", {"format": "json"}).streaming_content))

    assert [row["id"] for row in body["runs"]] == [run.pk] and body["truncated"] is False
    assert outsider.get("/runs/export/").status_code == 403
    assert viewer_client.get("/runs/export/", {"format": "pdf"}).status_code == 400


@pytest.mark.django_db
def test_runs_ingest_broadcasts_once_per_batch(django_capture_on_commit_callbacks):
    connection = make_connection()
    with mock.patch("monitors.realtime.broadcast_after_commit") as broadcast:
        runs_ingest(
            connection=connection,
            records=[record("a"), record("b", pipeline="pl_sales"), record("c", status="succeeded")],
            queue_detail=False,
        )
        runs_ingest(connection=connection, records=[record("a")], queue_detail=False)  # unchanged: no message

    groups = [call.kwargs["group"] for call in broadcast.call_args_list]
    assert groups == ["runs.list", "pipelines.list"]
    assert len(broadcast.call_args_list[0].kwargs["ids"]) == 2


def _cookie(user) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return b"cookie", f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


def _live(path: str, user, then) -> tuple[bool, list[str]]:
    headers = [ORIGIN, _cookie(user)]

    async def scenario():
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect()
        messages = []
        if connected:
            messages.append(await communicator.receive_from(timeout=5))
            await database_sync_to_async(then)()
            messages.append(await communicator.receive_from(timeout=5))
            await communicator.disconnect()
        return connected, messages

    return async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_runs_pushes_new_runs_for_the_page_filters(viewer):
    connection = make_connection()

    def ingest() -> None:
        with transaction.atomic():
            runs_ingest(connection=connection, records=[record("fresh-run")], queue_detail=False)

    connected, (caught_up, pushed) = _live("/ws/runs/?status=failed", viewer, ingest)

    assert connected is True and "fresh-run" not in caught_up
    assert pushed.lstrip().startswith('<tbody id="run-rows"') and 'hx-swap-oob="innerHTML"' in pushed
    assert "fresh-run" in pushed


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ws_pipelines_pushes_rows_and_refuses_no_role(viewer, no_role_user):
    connection = make_connection()
    make_pipeline(connection=connection, name="pl_existing")

    def ingest() -> None:
        with transaction.atomic():
            runs_ingest(connection=connection, records=[record("r1", pipeline="pl_brand_new")], queue_detail=False)

    connected, (caught_up, pushed) = _live("/ws/pipelines/", viewer, ingest)
    refused, nothing = _live("/ws/pipelines/", no_role_user, lambda: None)

    assert connected is True and "pl_brand_new" not in caught_up
    assert '<tbody id="pipeline-rows" hx-swap-oob="true"' in pushed and "pl_brand_new" in pushed
    assert refused is False and nothing == []
