"""Data contracts: YAML promises about warehouse tables, their published versions, checks and violations."""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from aimsweb.choices import Severity
from aimsweb.models import TimeStampedModel
from monitors.models import Connection
from monitors.secrets import EnvOrStoredSecret, secret_variable_problem

# Where a PostgreSQL warehouse may be reached without TLS: this machine only, spelled plainly.
LOCAL_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
# A host name or an IP literal, nothing that libpq would read as a list, a socket path or options.
DATABASE_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*|[0-9a-fA-F:.]+)$"
)
SQL_WAREHOUSE_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


class DataContract(TimeStampedModel):
    """A contract as it is being edited; checks run against its active (published) version."""

    name = models.SlugField(max_length=100, unique=True)
    owner = models.CharField(max_length=200, help_text="Team or person responsible for the table.")
    description = models.TextField(blank=True)
    yaml_text = models.TextField("YAML", help_text="The contract: table, columns and checks.")
    active_version = models.ForeignKey(
        "ContractVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    enabled = models.BooleanField(default=True)
    warehouse = models.ForeignKey(
        "Warehouse",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
        help_text="Where the contract's tables are checked.",
    )
    check_every_minutes = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text="Also check on this schedule (0: only after a producing run succeeds, or when asked).",
    )
    partition_filter = models.CharField(
        max_length=500,
        blank=True,
        help_text=(
            "Optional SQL condition limiting a check after a run to where it wrote, e.g. load_date = :run_date "
            "(placeholders :run_date, :run_started_at, :run_id)."
        ),
    )

    class Meta:
        ordering = ["name"]
        permissions = [("check_datacontract", "Can ask for a contract to be checked now")]

    def __str__(self) -> str:
        return self.name


class ContractProducer(TimeStampedModel):
    """A pipeline (by connection and name pattern) whose successful runs write the contract's tables: each such
    run is followed by a check."""

    contract = models.ForeignKey(DataContract, on_delete=models.CASCADE, related_name="producers")
    connection = models.ForeignKey("monitors.Connection", on_delete=models.CASCADE, related_name="+")
    pipeline_pattern = models.CharField(
        max_length=260, help_text="Pipeline or job name, or a pattern such as pl_sales_*."
    )

    class Meta:
        ordering = ["contract", "connection", "pipeline_pattern"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "connection", "pipeline_pattern"], name="contract_producer_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract.name} <- {self.pipeline_pattern}"


class ContractVersion(TimeStampedModel):
    """An immutable published text of a contract; the same text is never published twice."""

    contract = models.ForeignKey(DataContract, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    yaml_text = models.TextField("YAML")
    spec = models.JSONField(help_text="The validated contract, as parsed from the YAML.")
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the YAML text.")
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    changes = models.JSONField(
        default=list, blank=True, help_text="Changes against the version this one replaced (path, kind, level)."
    )
    breaking = models.BooleanField(default=False, help_text="At least one change breaks the contract's consumers.")
    publish_note = models.TextField(blank=True, help_text="Why it was published (required for a breaking version).")

    class Meta:
        ordering = ["contract", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="contract_version_number_unique"),
            models.UniqueConstraint(fields=["contract", "checksum"], name="contract_version_text_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.name} v{self.number}"


class CheckRun(TimeStampedModel):
    """One evaluation of a contract version against its table."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        WARNING = "warning", "Passed with warnings"
        FAILED = "failed", "Failed (violations found)"
        ERROR = "error", "Error (could not check)"

    class Trigger(models.TextChoices):
        RUN = "run", "After a producing run"
        SCHEDULE = "schedule", "Scheduled"
        MANUAL = "manual", "Asked by a person"

    contract = models.ForeignKey(DataContract, on_delete=models.CASCADE, related_name="check_runs")
    version = models.ForeignKey(ContractVersion, on_delete=models.PROTECT, related_name="check_runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_checked = models.BigIntegerField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    triggered_by_run = models.ForeignKey(
        "monitors.PipelineRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    statements = models.PositiveIntegerField(default=0, help_text="SQL statements sent to the warehouse.")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    observed_schema = models.JSONField(default=dict, blank=True, help_text="Columns seen, per schema object.")
    results = models.JSONField(default=list, blank=True, help_text="Every clause's outcome.")
    metrics = models.JSONField(
        default=dict, blank=True, help_text="Per schema object: row count, freshness lag, null and distinct ratios."
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["contract", "-started_at"], name="checkrun_contract_recent_idx")]

    def __str__(self) -> str:
        return f"{self.contract.name} check at {self.started_at:%Y-%m-%d %H:%M}"


class Violation(TimeStampedModel):
    """One broken rule (or schema change) found by a check run."""

    class Status(models.TextChoices):
        FAILED = "failed", "Failed"
        WARNING = "warning", "Warning"

    check_run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="violations")
    object = models.CharField(max_length=200, blank=True, help_text="The contract's schema object (table).")
    rule = models.CharField(max_length=300, help_text="Rule key, e.g. orders.amount.range.")
    kind = models.CharField(max_length=30, blank=True, help_text="What was measured, or the schema change.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.FAILED)
    line = models.PositiveIntegerField(default=0, help_text="The rule's line in the contract's YAML.")
    column = models.CharField(max_length=128, blank=True)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MEDIUM)
    message = models.TextField()
    expected = models.JSONField(null=True, blank=True)
    observed = models.JSONField(null=True, blank=True)
    sample = models.JSONField(default=list, blank=True, help_text="A few offending rows or values.")

    class Meta:
        ordering = ["check_run", "rule"]
        constraints = [models.UniqueConstraint(fields=["check_run", "rule"], name="violation_unique_per_check")]

    def __str__(self) -> str:
        return f"{self.rule}: {self.message[:60]}"


class Warehouse(EnvOrStoredSecret, TimeStampedModel):
    """A database whose tables contracts are checked on: a PostgreSQL server, or a Databricks SQL warehouse reached
    through a Databricks connection (its host, token and outbound rules).

    A PostgreSQL password is either named as an environment variable (the connections' rule) or stored encrypted;
    it is never readable back through the admin.
    """

    class Engine(models.TextChoices):
        POSTGRES = "postgres", "PostgreSQL"
        DATABRICKS_SQL = "databricks_sql", "Databricks SQL warehouse"

    class SslMode(models.TextChoices):
        VERIFY_FULL = "verify-full", "verify-full: TLS, certificate and host name checked"
        VERIFY_CA = "verify-ca", "verify-ca: TLS, certificate checked"
        REQUIRE = "require", "require: TLS, certificate not checked"
        DISABLE = "disable", "disable: no TLS (this machine only)"

    name = models.SlugField(max_length=100, unique=True)
    engine = models.CharField(max_length=20, choices=Engine.choices)
    enabled = models.BooleanField(default=True)
    host = models.CharField(max_length=253, blank=True, help_text="PostgreSQL server name or address.")
    port = models.PositiveIntegerField(default=5432, validators=[MinValueValidator(1), MaxValueValidator(65_535)])
    database = models.CharField(max_length=63, blank=True, help_text="PostgreSQL database name.")
    user = models.CharField(max_length=63, blank=True, help_text="PostgreSQL role; give it read access only.")
    sslmode = models.CharField(max_length=12, choices=SslMode.choices, default=SslMode.VERIFY_FULL)
    secret_env_var = models.CharField(
        max_length=100, blank=True, help_text="Name of the environment variable that holds the password."
    )
    secret_encrypted = models.TextField(blank=True, editable=False)
    connection = models.ForeignKey(
        Connection,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="warehouses",
        limit_choices_to={"kind": Connection.Kind.DATABRICKS},
        help_text="The Databricks workspace connection whose host and token reach the SQL warehouse.",
    )
    warehouse_id = models.CharField(max_length=64, blank=True, help_text="Databricks SQL warehouse id.")
    statement_timeout_seconds = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(3600)],
        help_text="A check's statement is cancelled after this long.",
    )
    max_connections = models.PositiveSmallIntegerField(
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="At most this many statements run on the warehouse at once.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_engine_display()})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.engine == self.Engine.POSTGRES:
            errors |= self._postgres_problems()
        elif self.engine == self.Engine.DATABRICKS_SQL:
            errors |= self._databricks_problems()
        if self.secret_env_var:
            problem = secret_variable_problem(self.secret_env_var)
            if problem:
                errors["secret_env_var"] = problem
        if errors:
            raise ValidationError(errors)

    def _postgres_problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        for field in ("host", "database", "user"):
            if not getattr(self, field):
                errors[field] = "Required for a PostgreSQL warehouse."
        if self.host and not DATABASE_HOST.match(self.host):
            errors["host"] = "Give one host name or IP address (no port, path or list)."
        if self.sslmode == self.SslMode.DISABLE and self.host and self.host.lower() not in LOCAL_HOSTS:
            errors["sslmode"] = "Without TLS the password would cross the network in clear: only for 127.0.0.1/::1."
        if self.connection_id:
            errors["connection"] = "Only a Databricks SQL warehouse uses a connection."
        return errors

    def _databricks_problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.connection_id:
            errors["connection"] = "Required for a Databricks SQL warehouse: the workspace connection."
        elif self.connection is not None and self.connection.kind != Connection.Kind.DATABRICKS:
            errors["connection"] = "Choose a Databricks connection."
        if not self.warehouse_id:
            errors["warehouse_id"] = "Required for a Databricks SQL warehouse."
        elif not SQL_WAREHOUSE_ID.match(self.warehouse_id):
            errors["warehouse_id"] = "A SQL warehouse id is letters and digits, as in its connection details."
        if self.secret_env_var or self.secret_encrypted:
            errors["secret_env_var"] = "A Databricks SQL warehouse authenticates with its connection's token."
        return errors
