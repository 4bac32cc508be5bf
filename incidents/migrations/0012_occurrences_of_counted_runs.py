"""Every failed run already counted in an incident becomes its occurrence (the intake's record from now on), with
the evidence notifications quote, and each incident points at the occurrence of its latest run. In batches, so a
large history never sits in memory; idempotent (runs that have their occurrence are skipped)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery

BATCH = 2000


def occurrences_create(apps, schema_editor):
    analysis_model = apps.get_model("incidents", "FailureAnalysis")
    occurrence_model = apps.get_model("incidents", "Occurrence")
    incident_model = apps.get_model("incidents", "Incident")
    counted = (
        analysis_model.objects.filter(incident__isnull=False)
        .exclude(run_id__in=occurrence_model.objects.filter(run__isnull=False).values("run_id"))
        .order_by("pk")
        .values(
            "pk", "run_id", "incident_id", "category", "severity", "summary", "root_cause", "recommended_actions",
            "run__external_run_id", "run__failed_step", "run__error_code", "run__error_message", "run__started_at",
            "run__created_at", "run__connection_id", "run__pipeline_id", "incident__fingerprint", "incident__title",
        )
    )  # fmt: skip
    batch = []
    for row in counted.iterator(chunk_size=BATCH):
        batch.append(
            occurrence_model(
                source="pipeline_run",
                dedup_key=f"pipeline_run:{row['run_id']}",
                fingerprint=row["incident__fingerprint"],
                title=row["incident__title"],
                severity=row["severity"],
                category=row["category"],
                connection_id=row["run__connection_id"],
                pipeline_id=row["run__pipeline_id"],
                subject=f"pipeline_run:{row['run_id']}",
                subject_label=f"run {row['run__external_run_id']}"[:200],
                run_id=row["run_id"],
                analysis_id=row["pk"],
                evidence={
                    "external_run_id": row["run__external_run_id"],
                    "failed_step": row["run__failed_step"],
                    "error_code": row["run__error_code"],
                    "error": row["run__error_message"],
                    "summary": row["summary"],
                    "root_cause": row["root_cause"],
                    "recommended_actions": list(row["recommended_actions"] or []),
                },
                detected_at=row["run__started_at"] or row["run__created_at"],
                incident_id=row["incident_id"],
            )
        )
        if len(batch) >= BATCH:
            occurrence_model.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    if batch:
        occurrence_model.objects.bulk_create(batch, ignore_conflicts=True)
    latest = occurrence_model.objects.filter(incident_id=OuterRef("pk"), run_id=OuterRef("latest_run_id"))
    incident_model.objects.filter(latest_occurrence__isnull=True, latest_run__isnull=False).update(
        latest_occurrence=Subquery(latest.values("pk")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0011_occurrences")]

    operations = [migrations.RunPython(occurrences_create, migrations.RunPython.noop)]
