"""Each retry attempt made before the engine moved keeps the advice it was made on (the error class and delay of
its run's analysis), and the outcomes already acted on are marked taken in, so none is announced again."""

from django.db import migrations
from django.db.models import F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def advice_fill(apps, schema_editor):
    attempt = apps.get_model("remediation", "RetryAttempt")
    analysis = apps.get_model("incidents", "FailureAnalysis")
    of_run = analysis.objects.filter(run_id=OuterRef("run_id"))
    attempt.objects.update(
        category=Coalesce(Subquery(of_run.values("category")[:1]), Value("unknown")),
        advised_delay_minutes=Coalesce(Subquery(of_run.values("retry_delay_minutes")[:1]), Value(0)),
    )
    attempt.objects.filter(finished_at__isnull=False, outcome_announced_at__isnull=True).update(
        outcome_announced_at=F("finished_at")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0009_maintenance_window_to_monitors"),
        ("remediation", "0002_tables_and_advice"),
    ]

    operations = [migrations.RunPython(advice_fill, migrations.RunPython.noop)]
