"""Rows of the incidents app for tests."""

from itertools import count

from django.utils import timezone

from aimsweb.choices import ErrorCategory, Severity
from incidents.models import FailureAnalysis, Incident, IncidentEvent, Occurrence
from monitors.models import PipelineRun
from tests.monitors.factories import make_run

_seq = count(1)


def make_analysis(run: PipelineRun | None = None, **fields) -> FailureAnalysis:
    run = run or make_run()
    defaults = {
        "run": run,
        "signature": f"{next(_seq):064x}",
        "category": ErrorCategory.TRANSIENT,
        "severity": Severity.HIGH,
        "should_retry": True,
        "confidence": 90,
        "summary": "Source database timed out (nightly)",
        "analyzer": FailureAnalysis.Analyzer.OFFLINE,
    }
    return FailureAnalysis.objects.create(**{**defaults, **fields})


def make_incident(run: PipelineRun | None = None, **fields) -> Incident:
    run = run or make_run()
    now = timezone.now()
    defaults = {
        "fingerprint": f"{next(_seq):064x}",
        "title": f"{run.pipeline.name}: source timed out (nightly)",
        "severity": Severity.HIGH,
        "category": ErrorCategory.TRANSIENT,
        "connection": run.connection,
        "pipeline": run.pipeline,
        "latest_run": run,
        "first_seen_at": now,
        "last_seen_at": now,
    }
    incident = Incident.objects.create(**{**defaults, **fields})
    incident.latest_occurrence = Occurrence.objects.create(
        source=Occurrence.Source.PIPELINE_RUN,
        dedup_key=f"pipeline_run:{run.pk}:{incident.pk}",
        fingerprint=incident.fingerprint,
        title=incident.title,
        severity=incident.severity,
        category=incident.category,
        connection=run.connection,
        pipeline=run.pipeline,
        subject=f"pipeline_run:{run.pk}",
        subject_label=f"run {run.external_run_id}",
        run=run,
        evidence={"external_run_id": run.external_run_id, "error": run.error_message, "failed_step": run.failed_step},
        detected_at=run.started_at or now,
        incident=incident,
    )
    incident.save(update_fields=["latest_occurrence"])
    IncidentEvent.objects.create(
        incident=incident,
        kind=IncidentEvent.Kind.OPENED,
        params={"subject_label": f"nightly run {run.external_run_id}", "category": incident.category},
    )
    return incident
