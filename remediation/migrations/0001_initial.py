"""Retry policies and attempts move from monitors to this app (the rerun engine's own layer): the tables stay
where they are here (renamed in 0002), only Django's record of which app holds them changes, with the content
types, so the role groups keep their permissions on them."""

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_types_move(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="monitors", model__in=["retrypolicy", "retryattempt"]).exclude(
        model__in=content_type.objects.filter(app_label="remediation").values("model")
    ).update(app_label="remediation")


def content_types_back(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="remediation", model__in=["retrypolicy", "retryattempt"]).update(
        app_label="monitors"
    )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("monitors", "0011_retry_models_to_remediation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="RetryPolicy",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("name", models.CharField(max_length=100, unique=True)),
                        (
                            "pipeline_pattern",
                            models.CharField(
                                default="*",
                                help_text="Glob on pipeline or job names, e.g. sales_* (* = all).",
                                max_length=260,
                            ),
                        ),
                        (
                            "error_classes",
                            models.JSONField(default=list, help_text="Error classes this policy retries."),
                        ),
                        (
                            "priority",
                            models.PositiveIntegerField(
                                default=100, help_text="Lower wins when several policies match."
                            ),
                        ),
                        (
                            "max_attempts",
                            models.PositiveSmallIntegerField(
                                default=3,
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(10),
                                ],
                            ),
                        ),
                        (
                            "backoff_initial_seconds",
                            models.PositiveIntegerField(
                                default=60,
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(86400),
                                ],
                            ),
                        ),
                        (
                            "backoff_multiplier",
                            models.FloatField(
                                default=2.0,
                                validators=[
                                    django.core.validators.MinValueValidator(1.0),
                                    django.core.validators.MaxValueValidator(10.0),
                                ],
                            ),
                        ),
                        (
                            "backoff_max_seconds",
                            models.PositiveIntegerField(
                                default=1800,
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(86400),
                                ],
                            ),
                        ),
                        (
                            "jitter",
                            models.FloatField(
                                default=0.1,
                                help_text="Random spread added to each delay, as a fraction of it (0 to 1).",
                                validators=[
                                    django.core.validators.MinValueValidator(0.0),
                                    django.core.validators.MaxValueValidator(1.0),
                                ],
                            ),
                        ),
                        (
                            "min_confidence",
                            models.PositiveSmallIntegerField(
                                default=60,
                                help_text="Only retry when the analysis is at least this confident (0-100).",
                                validators=[django.core.validators.MaxValueValidator(100)],
                            ),
                        ),
                        (
                            "rerun_mode",
                            models.CharField(
                                choices=[
                                    (
                                        "recover",
                                        "Recover: ADF rerun from the failed activity / Databricks repair of failed tasks",
                                    ),
                                    ("full", "Full: ADF rerun of the whole pipeline / Databricks new run of the job"),
                                ],
                                default="recover",
                                max_length=10,
                            ),
                        ),
                        (
                            "max_concurrent_reruns",
                            models.PositiveSmallIntegerField(
                                default=5,
                                help_text="Cap on reruns in flight per connection (retry-storm guard).",
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(100),
                                ],
                            ),
                        ),
                        (
                            "auto_resolve",
                            models.BooleanField(
                                default=True,
                                help_text="Resolve the incident when a later run of the pipeline succeeds.",
                            ),
                        ),
                        ("enabled", models.BooleanField(default=True)),
                        (
                            "connection",
                            models.ForeignKey(
                                blank=True,
                                help_text="Blank: any connection.",
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="retry_policies",
                                to="monitors.connection",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitors_retrypolicy",
                        "verbose_name_plural": "retry policies",
                        "ordering": ["priority", "name"],
                    },
                ),
                migrations.CreateModel(
                    name="RetryAttempt",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("attempt_number", models.PositiveSmallIntegerField()),
                        ("idempotency_key", models.CharField(max_length=200, unique=True)),
                        (
                            "trigger",
                            models.CharField(
                                choices=[("policy", "Retry policy"), ("manual", "By hand")],
                                default="policy",
                                max_length=10,
                            ),
                        ),
                        (
                            "mode",
                            models.CharField(
                                choices=[
                                    (
                                        "recover",
                                        "Recover: ADF rerun from the failed activity / Databricks repair of failed tasks",
                                    ),
                                    ("full", "Full: ADF rerun of the whole pipeline / Databricks new run of the job"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("scheduled", "Scheduled"),
                                    ("claimed", "Claimed (calling the platform)"),
                                    ("running", "Running"),
                                    ("succeeded", "Succeeded"),
                                    ("failed", "Failed"),
                                    ("cancelled", "Cancelled"),
                                    ("error", "Error (rerun could not be started)"),
                                ],
                                default="scheduled",
                                max_length=10,
                            ),
                        ),
                        ("scheduled_for", models.DateTimeField()),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "external_rerun_id",
                            models.CharField(
                                blank=True, help_text="ADF run id or Databricks repair id.", max_length=100
                            ),
                        ),
                        ("error_message", models.TextField(blank=True)),
                        (
                            "requested_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "rerun",
                            models.ForeignKey(
                                blank=True,
                                help_text="The rerun.",
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="monitors.pipelinerun",
                            ),
                        ),
                        (
                            "run",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="retry_attempts",
                                to="monitors.pipelinerun",
                            ),
                        ),
                        (
                            "policy",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="attempts",
                                to="remediation.retrypolicy",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "monitors_retryattempt",
                        "ordering": ["run", "attempt_number"],
                        "indexes": [models.Index(fields=["status", "scheduled_for"], name="attempt_status_due_idx")],
                        "constraints": [
                            models.UniqueConstraint(fields=("run", "attempt_number"), name="attempt_unique_per_run")
                        ],
                    },
                ),
            ]
        ),
        migrations.RunPython(content_types_move, content_types_back),
    ]
