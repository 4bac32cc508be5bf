"""Sources and runs: connections to ADF and Databricks, what is polled, the runs seen, webhook deliveries and
maintenance windows."""

import fnmatch

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from aimsweb.crypto import decrypt_secret, encrypt_secret
from aimsweb.headline import headline
from aimsweb.models import TimeStampedModel
from aimsweb.outbound import OutboundPolicy, host_problem, url_problem
from monitors.links import adf_run_url, databricks_run_url
from monitors.secrets import EnvOrStoredSecret, secret_variable_problem


class Connection(EnvOrStoredSecret, TimeStampedModel):
    """One ADF factory or one Databricks workspace, with how to reach and authenticate to it.

    The secret (service-principal client secret or personal access token) is either named as an environment
    variable or stored encrypted; it is never readable back through the admin.
    """

    class Kind(models.TextChoices):
        ADF = "adf", "Azure Data Factory"
        DATABRICKS = "databricks", "Databricks"

    class AuthMethod(models.TextChoices):
        SERVICE_PRINCIPAL = "service_principal", "Azure service principal (tenant, client id, client secret)"
        PAT = "pat", "Databricks personal access token"
        STATIC_TOKEN = "static_token", "Static bearer token (simulator only)"

    name = models.SlugField(max_length=100, unique=True, help_text="Short unique name, used in webhook URLs.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    is_simulator = models.BooleanField(
        default=False, help_text="Talks plain HTTP to the local AIMS simulator on 127.0.0.1 instead of the cloud."
    )
    host = models.URLField(
        max_length=300,
        blank=True,
        help_text="Databricks workspace URL, or the ARM endpoint for ADF (blank: https://management.azure.com).",
    )
    auth_method = models.CharField(max_length=30, choices=AuthMethod.choices)
    tenant_id = models.CharField(max_length=64, blank=True)
    client_id = models.CharField(max_length=64, blank=True)
    subscription_id = models.CharField(max_length=64, blank=True)
    resource_group = models.CharField(max_length=90, blank=True)
    factory_name = models.CharField(max_length=63, blank=True)
    secret_env_var = models.CharField(
        max_length=100, blank=True, help_text="Name of the environment variable that holds the secret."
    )
    secret_encrypted = models.TextField(blank=True, editable=False)
    webhook_secret_encrypted = models.TextField(blank=True, editable=False)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.ADF:
            for field in ("subscription_id", "resource_group", "factory_name"):
                if not getattr(self, field):
                    errors[field] = "Required for an Azure Data Factory connection."
            if self.auth_method == self.AuthMethod.PAT:
                errors["auth_method"] = "A personal access token only works for Databricks."
        if self.kind == self.Kind.DATABRICKS and not self.host:
            errors["host"] = "Required for a Databricks connection: the workspace URL."
        if self.auth_method == self.AuthMethod.SERVICE_PRINCIPAL:
            for field in ("tenant_id", "client_id"):
                if not getattr(self, field):
                    errors[field] = "Required for service-principal authentication."
        if self.auth_method == self.AuthMethod.STATIC_TOKEN and not self.is_simulator:
            errors["auth_method"] = "A static token is only accepted for a simulator connection."
        if self.host:
            # Resolving now catches a name that points inside; each request resolves and checks again (pinned).
            policy = OutboundPolicy.for_connection(is_simulator=self.is_simulator)
            problem = self.endpoint_problem()
            resolved = "" if problem else host_problem(self.host, policy)
            if problem or resolved:
                errors["host"] = problem or f"This endpoint is refused: {resolved}."
        if self.secret_env_var:
            problem = secret_variable_problem(self.secret_env_var)
            if problem:
                errors["secret_env_var"] = problem
        if errors:
            raise ValidationError(errors)

    def set_webhook_secret(self, plaintext: str) -> None:
        """Store the shared secret that failure webhooks must present (empty: webhooks refused)."""
        self.webhook_secret_encrypted = encrypt_secret(plaintext) if plaintext else ""

    def get_webhook_secret(self) -> str:
        return decrypt_secret(self.webhook_secret_encrypted) if self.webhook_secret_encrypted else ""

    def endpoint_problem(self) -> str:
        """Why the host may not be called ("" when it may), by the outbound rules: https to a public address, or a
        simulator only on this machine. Names are resolved and checked again when a request is sent."""
        problem = url_problem(self.host, OutboundPolicy.for_connection(is_simulator=self.is_simulator))
        return f"This endpoint is refused: {problem}." if problem else ""


class Pipeline(TimeStampedModel):
    """An ADF pipeline or a Databricks job, identified per connection by its platform id."""

    class Criticality(models.TextChoices):
        CRITICAL = "critical", "Critical"
        HIGH = "high", "High"
        NORMAL = "normal", "Normal"
        LOW = "low", "Low"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="pipelines")
    external_id = models.CharField(max_length=260, help_text="ADF pipeline name or Databricks job id.")
    name = models.CharField(max_length=260)
    criticality = models.CharField(max_length=10, choices=Criticality.choices, default=Criticality.NORMAL)
    owner = models.CharField(max_length=200, blank=True)
    alert_lookup = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="What the latest Azure Monitor alert lookups covered: began at (AIMS time), from, to and newest "
        "failure seen (platform time).",
    )

    class Meta:
        ordering = ["connection", "name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_id"], name="pipeline_unique_per_connection"),
        ]

    def __str__(self) -> str:
        return self.name


class Monitor(TimeStampedModel):
    """What to poll on a connection and how often; the watermark says how far it has read."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="monitors")
    name = models.CharField(max_length=100)
    pipeline_pattern = models.CharField(
        max_length=260, default="*", help_text="Glob on pipeline or job names to watch, e.g. sales_* (* = all)."
    )
    interval_seconds = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(60), MaxValueValidator(86_400)],
        help_text="Seconds between polls, rounded up to whole minutes (the task scheduler's granularity).",
    )
    overlap_seconds = models.PositiveIntegerField(
        default=300,
        validators=[MaxValueValidator(86_400)],
        help_text="Each poll re-reads this much before the watermark, to catch runs updated late.",
    )
    enabled = models.BooleanField(default=True)
    watermark = models.DateTimeField(null=True, blank=True, help_text="Runs updated before this have been read.")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    poll_lease_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="A poll holds the monitor until then; no second poll overlaps."
    )

    class Meta:
        ordering = ["connection", "name"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "name"], name="monitor_unique_per_connection"),
        ]

    def __str__(self) -> str:
        return f"{self.connection.name}/{self.name}"


class PipelineRun(TimeStampedModel):
    """One run of a pipeline or job as the platform reported it, with its failure detail once known."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLING = "cancelling", "Cancelling"
        CANCELLED = "cancelled", "Cancelled"
        SKIPPED = "skipped", "Skipped"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="runs")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="runs")
    external_run_id = models.CharField(max_length=100)
    status = models.CharField(max_length=12, choices=Status.choices)
    platform_status = models.CharField(max_length=60, blank=True, help_text="The status as the platform spelt it.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.BigIntegerField(null=True, blank=True)
    platform_updated_at = models.DateTimeField(null=True, blank=True)
    failed_step = models.CharField(max_length=260, blank=True, help_text="Failed ADF activity or Databricks task.")
    error_code = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    error_trace = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True, help_text="The platform's run as last received.")
    failure_detail = models.JSONField(
        default=dict, blank=True, help_text="Activity runs or task output the error was taken from."
    )
    detail_fetched_at = models.DateTimeField(null=True, blank=True)
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns", help_text="Original run."
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "external_run_id"], name="run_unique_per_connection"),
        ]
        indexes = [
            # A pipeline's runs by start; status and duration ride along (PostgreSQL) so the pipeline pages count
            # a week of runs and its durations from the index alone, without a heap fetch per run.
            models.Index(
                fields=["pipeline", "-started_at"], include=["status", "duration_ms"], name="run_pipeline_started_idx"
            ),
            models.Index(fields=["status", "-started_at"], name="run_status_started_idx"),
            models.Index(fields=["-started_at", "-id"], name="run_started_idx"),
            # Failed runs in a time window, for the dashboard's count, chart and top pipelines: an index-only scan of
            # this small partial index instead of a heap fetch per run.
            models.Index(
                fields=["started_at"],
                include=["pipeline", "id"],
                condition=models.Q(status="failed"),
                name="run_failed_started_idx",
            ),
        ]
        permissions = [("retry_pipelinerun", "Can retry a failed run by hand")]

    def __str__(self) -> str:
        return f"{self.pipeline} run {self.external_run_id}"

    def get_absolute_url(self) -> str:
        return reverse("monitors:run-detail", args=[self.pk])

    @property
    def headline(self) -> str:
        """The error's innermost cause as one short line (aimsweb.headline), for tables; "" without an error."""
        return headline(self.error_message)

    @property
    def platform_url(self) -> str | None:
        """The run's page in ADF Monitor or the Databricks workspace (load the connection and pipeline with it)."""
        connection = self.connection
        if connection.kind == Connection.Kind.ADF:
            return adf_run_url(
                subscription_id=connection.subscription_id,
                resource_group=connection.resource_group,
                factory_name=connection.factory_name,
                run_id=self.external_run_id,
            )
        return databricks_run_url(host=connection.host, job_id=self.pipeline.external_id, run_id=self.external_run_id)

    @property
    def platform_label(self) -> str:
        return "ADF Monitor" if self.connection.kind == Connection.Kind.ADF else "Databricks workspace"


class RerunMode(models.TextChoices):
    """How a rerun is made, in each platform's own terms."""

    RECOVER = "recover", "Recover: ADF rerun from the failed activity / Databricks repair of failed tasks"
    FULL = "full", "Full: ADF rerun of the whole pipeline / Databricks new run of the job"


class WebhookDelivery(TimeStampedModel):
    """One authenticated webhook request, stored as received before anything else happens to it."""

    class Source(models.TextChoices):
        DATABRICKS = "databricks", "Databricks job notification"
        AZURE_MONITOR = "azure_monitor", "Azure Monitor alert"
        ADF_CALLBACK = "adf_callback", "ADF failure callback (Web activity)"

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "Accepted (queued)"
        REJECTED = "rejected", "Rejected (bad payload)"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (nothing to look up)"
        FAILED = "failed", "Failed (lookup error)"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="webhook_deliveries")
    source = models.CharField(max_length=20, choices=Source.choices)
    status = models.CharField(max_length=10, choices=Status.choices)
    body = models.TextField(help_text="The request body as received (decoded as UTF-8, invalid bytes replaced).")
    headers = models.JSONField(default=dict, blank=True, help_text="Content type, user agent and request ids.")
    error = models.TextField(blank=True)
    run_ids = models.JSONField(default=list, blank=True, help_text="Platform run ids this delivery led to.")
    processed_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="A worker is processing it until then (or gave up)."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["connection", "-created_at"], name="delivery_connection_recent_idx"),
            # The deliveries still to process, oldest first, however many are kept.
            models.Index(fields=["id"], condition=models.Q(status="accepted"), name="delivery_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} #{self.pk} ({self.status})"


class MaintenanceWindow(TimeStampedModel):
    """A planned window or an ad-hoc silence on a connection or pipelines: failures in it are recorded, but they
    neither notify nor rerun (each configurable), and the incident timeline says why."""

    name = models.CharField(max_length=100)
    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="maintenance_windows",
        help_text="Blank: every connection.",
    )
    pipeline_pattern = models.CharField(
        max_length=260, default="*", help_text="Glob on pipeline or job names, e.g. sales_* (* = all)."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    suppress_notifications = models.BooleanField(default=True)
    suppress_retries = models.BooleanField(default=True)
    reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="window_active_idx")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = "Must be after the start."
        if not (self.pipeline_pattern or "").strip():
            errors["pipeline_pattern"] = "Give a pattern; * matches every pipeline."
        if not self.suppress_notifications and not self.suppress_retries:
            errors["suppress_notifications"] = "A window that suppresses nothing has no effect: tick at least one."
        if errors:
            raise ValidationError(errors)

    def covers(self, *, connection_id: int | None, pipeline_name: str, at) -> bool:
        return (
            self.starts_at <= at < self.ends_at
            and (self.connection_id is None or self.connection_id == connection_id)
            and fnmatch.fnmatchcase(pipeline_name, self.pipeline_pattern)
        )
