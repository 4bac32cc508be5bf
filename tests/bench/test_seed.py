"""The UI benchmark's seeding writes straight into the tables (COPY, PostgreSQL only): a small seeding here keeps it
in step with the models, so a renamed field fails the suite rather than the next `make bench`."""

import random

import pytest
from django.db import connection, transaction

from bench import ui_pages
from incidents.models import FailureAnalysis, Incident, IncidentEvent
from monitors.models import PipelineRun


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ui_seed_writes_rows_the_models_read(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark seeds with COPY, on PostgreSQL")
    monkeypatch.setattr(ui_pages, "RUNS", 400)
    monkeypatch.setattr(ui_pages, "INCIDENTS", 40)
    monkeypatch.setattr(ui_pages, "PIPELINES", 5)

    connections = ui_pages._bench_connections()
    with transaction.atomic(), connection.cursor() as cursor:
        written = ui_pages._write(cursor, connections, random.Random(ui_pages.SEED))

    assert (PipelineRun.objects.count(), Incident.objects.count()) == (400, 40)
    assert FailureAnalysis.objects.count() == written["analyses"] == 100
    opened = IncidentEvent.objects.filter(kind="opened").first()
    assert opened is not None and opened.text.startswith("Opened by run ")
    assert IncidentEvent.objects.count() == written["events"]
