"""Writes for sources and runs."""

from django.db import transaction

from aimsweb.choices import ErrorCategory
from monitors.models import RerunMode, RetryPolicy

DEFAULT_RETRY_POLICIES = [
    {
        "name": "Transient failures",
        "error_classes": [ErrorCategory.TRANSIENT.value],
        "max_attempts": 3,
        "backoff_initial_seconds": 60,
        "backoff_multiplier": 2.0,
        "backoff_max_seconds": 900,
        "rerun_mode": RerunMode.RECOVER,
        "priority": 100,
    },
    {
        "name": "Resource pressure",
        "error_classes": [ErrorCategory.RESOURCE.value],
        "max_attempts": 2,
        "backoff_initial_seconds": 300,
        "backoff_multiplier": 2.0,
        "backoff_max_seconds": 1800,
        "rerun_mode": RerunMode.RECOVER,
        "priority": 110,
    },
]


@transaction.atomic
def retry_policy_defaults_ensure() -> list[str]:
    """Create the default retry policies that do not exist yet (by name); existing ones are left as edited."""
    created = []
    for defaults in DEFAULT_RETRY_POLICIES:
        _, was_created = RetryPolicy.objects.get_or_create(name=defaults["name"], defaults=defaults)
        if was_created:
            created.append(defaults["name"])
    return created
