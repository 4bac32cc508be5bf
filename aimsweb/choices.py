"""Vocabulary shared across apps: the analysis classes and severities that runs, policies and incidents use."""

from django.db import models


class ErrorCategory(models.TextChoices):
    """What kind of failure a run had, as decided by the failure analysis."""

    TRANSIENT = "transient", "Transient"
    RESOURCE = "resource", "Resource"
    CONFIGURATION = "configuration", "Configuration"
    PERMISSION = "permission", "Permission"
    DATA_QUALITY = "data_quality", "Data quality"
    CODE = "code", "Code"
    UNKNOWN = "unknown", "Unknown"


class Severity(models.TextChoices):
    """Ordered from most to least urgent; `rank` gives the order for sorting and thresholds."""

    CRITICAL = "critical", "Critical"
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFO = "info", "Info"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)

    @classmethod
    def ordered(cls) -> list["Severity"]:
        """Every severity, least urgent first (the one order every comparison of severities uses)."""
        return sorted(cls, key=lambda severity: severity.rank, reverse=True)
