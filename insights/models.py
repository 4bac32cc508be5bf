"""Metrics as time series, what the detector said about each point, and what people told it (audited)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from aimsweb.models import TimeStampedModel


class Series(TimeStampedModel):
    """One metric of one pipeline or table, one point per bucket (day or hour), and how it is watched."""

    class Subject(models.TextChoices):
        PIPELINE = "pipeline", "Pipeline"
        TABLE = "table", "Table"

    class Metric(models.TextChoices):
        ROW_COUNT = "row_count", "Rows"
        ROWS_WRITTEN = "rows_written", "Rows written by the run"
        FRESHNESS_LAG = "freshness_lag_minutes", "Freshness lag (minutes)"
        NULL_RATIO = "null_ratio", "Null ratio"
        DISTINCT_RATIO = "distinct_ratio", "Distinct ratio"
        DURATION = "duration_seconds", "Run duration (seconds)"
        RUNS = "runs_per_day", "Runs per day"
        SUCCESS_RATE = "success_rate", "Success rate"
        RETRIES = "retries", "Reruns"

    class Granularity(models.TextChoices):
        DAY = "day", "Daily"
        HOUR = "hour", "Hourly"

    class Sensitivity(models.TextChoices):
        LOW = "low", "Low (fewest alerts)"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High (most alerts)"

    class Direction(models.TextChoices):
        DEFAULT = "", "The metric's default"
        BOTH = "both", "Rises and drops"
        SPIKE = "spike", "Rises only"
        DROP = "drop", "Drops only"

    class State(models.TextChoices):
        LEARNING = "learning", "Learning"
        NORMAL = "normal", "Normal"
        ANOMALOUS = "anomalous", "Anomalous"

    key = models.CharField(max_length=300, unique=True, help_text="Stable name: subject, metric and column.")
    subject = models.CharField(max_length=10, choices=Subject.choices)
    metric = models.CharField(max_length=30, choices=Metric.choices)
    pipeline = models.ForeignKey(
        "monitors.Pipeline", null=True, blank=True, on_delete=models.CASCADE, related_name="series"
    )
    contract = models.ForeignKey(
        "contracts.DataContract", null=True, blank=True, on_delete=models.CASCADE, related_name="series"
    )
    table = models.CharField(max_length=200, blank=True, help_text="The contract's schema object.")
    column = models.CharField(max_length=128, blank=True)
    granularity = models.CharField(max_length=4, choices=Granularity.choices, default=Granularity.DAY)
    # How it is watched (Admins edit these)
    enabled = models.BooleanField(default=True, help_text="Off: points are still recorded, never alerted on.")
    sensitivity = models.CharField(max_length=6, choices=Sensitivity.choices, default=Sensitivity.MEDIUM)
    direction = models.CharField(max_length=5, choices=Direction.choices, default=Direction.DEFAULT, blank=True)
    min_change_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(1000)],
        help_text="Smallest relative change worth an alert, in % (blank: the metric's default).",
    )
    min_change_absolute = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Smallest change worth an alert in the metric's own unit (rows, minutes, a ratio; blank: none).",
    )
    recover_after = models.PositiveSmallIntegerField(
        default=3, help_text="Buckets back inside the band before an anomaly's incident resolves."
    )
    # What the detector last said
    state = models.CharField(max_length=10, choices=State.choices, default=State.LEARNING)
    season = models.CharField(max_length=20, blank=True)
    in_band_streak = models.PositiveIntegerField(default=0)
    last_point_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name_plural = "series"
        permissions = [("annotate_series", "Can mark points as expected or exclude a period")]
        indexes = [models.Index(fields=["subject", "metric"])]

    def __str__(self) -> str:
        return self.key


class Point(models.Model):
    """One bucket's value and the detector's verdict on it, computed from it and the points before it only."""

    class State(models.TextChoices):
        LEARNING = "learning", "Learning"
        SCORED = "scored", "Scored"

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="points")
    t = models.DateTimeField(help_text="Start of the bucket.")
    value = models.FloatField()
    run = models.ForeignKey("monitors.PipelineRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    check_run = models.ForeignKey(
        "contracts.CheckRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=8, choices=State.choices, default=State.LEARNING)
    anomalous = models.BooleanField(default=False)
    expected = models.FloatField(null=True, blank=True)
    low = models.FloatField(null=True, blank=True)
    high = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    season = models.CharField(max_length=20, blank=True)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["series", "t"]
        constraints = [models.UniqueConstraint(fields=["series", "t"], name="insights_point_once_per_bucket")]

    def __str__(self) -> str:
        return f"{self.series_id} @ {self.t:%Y-%m-%d %H:%M}: {self.value:g}"


class SeriesNote(TimeStampedModel):
    """A person's word on a stretch of a series, applied at once and kept: "expected" (normal, learn from it) or
    "excluded" (ignore it, e.g. a known outage)."""

    class Kind(models.TextChoices):
        EXPECTED = "expected", "Marked as expected"
        EXCLUDED = "excluded", "Period excluded"

    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gte=models.F("start")), name="insights_note_span")
        ]


class ExpectedSchedule(TimeStampedModel):
    """When a pipeline is expected to start: read from the platform (an ADF trigger, a Databricks job schedule) or
    learnt from its runs. Either way a cron expression in a time zone, or a fixed interval from an anchor."""

    class Source(models.TextChoices):
        ADF_TRIGGER = "adf_trigger", "ADF trigger"
        DATABRICKS_JOB = "databricks_job", "Databricks job schedule"
        LEARNED = "learned", "Learnt from its runs"

    pipeline = models.ForeignKey("monitors.Pipeline", on_delete=models.CASCADE, related_name="expected_schedules")
    source = models.CharField(max_length=20, choices=Source.choices)
    name = models.CharField(max_length=200, help_text="The trigger or job, or what was learnt.")
    active = models.BooleanField(default=True, help_text="Off when the platform's trigger is stopped or paused.")
    cron = models.CharField(max_length=120, blank=True)
    every_seconds = models.PositiveIntegerField(null=True, blank=True)
    anchor = models.DateTimeField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    description = models.CharField(max_length=300, blank=True, help_text="In words, for titles and pages.")
    tolerance_minutes = models.PositiveIntegerField(default=30)
    seen_at = models.DateTimeField(help_text="When the platform (or the runs) last showed it.")

    class Meta:
        ordering = ["pipeline", "source", "name"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "source", "name"], name="insights_schedule_once"),
        ]

    def __str__(self) -> str:
        return f"{self.pipeline}: {self.description or self.name}"
