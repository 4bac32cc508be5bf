"""Retry policies: which one covers a failure, how long an attempt waits, whether the advice is followed."""

import random
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from django.db import transaction

from aimsweb.choices import ErrorCategory
from aimsweb.memo import memoized
from monitors.maintenance import maintenance_window_active
from monitors.models import PipelineRun, RerunMode
from remediation.models import RetryPolicy

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


@dataclass(frozen=True)
class RetryAdvice:
    """What the analysis of a failure advises, as the engine needs it (the engine never reads the analysis)."""

    category: str
    should_retry: bool
    confidence: int
    delay_minutes: int = 0


class Skip(StrEnum):
    """Why a failure is not rerun, or an attempt was cancelled (the layer above puts it into words)."""

    MAINTENANCE = "maintenance"  # params: window
    NO_POLICY = "no_policy"  # params: category
    ADVISED_AGAINST = "advised_against"  # params: policy
    LOW_CONFIDENCE = "low_confidence"  # params: policy, confidence, required
    POLICY_GONE = "policy_gone"  # the policy that scheduled it no longer applies
    INCIDENT_RESOLVED = "incident_resolved"
    CANCELLED_BY_HAND = "cancelled_by_hand"  # params: user (who cancelled it)


@dataclass(frozen=True)
class Verdict:
    """The policy's answer about a failure: the policy that allows a rerun, or why none is made."""

    policy: RetryPolicy | None
    skip: Skip | None = None
    params: dict = field(default_factory=dict)


@transaction.atomic
def retry_policy_defaults_ensure() -> list[str]:
    """Create the default retry policies that do not exist yet (by name); existing ones are left as edited."""
    created = []
    for defaults in DEFAULT_RETRY_POLICIES:
        _, was_created = RetryPolicy.objects.get_or_create(name=defaults["name"], defaults=defaults)
        if was_created:
            created.append(str(defaults["name"]))
    return created


def retry_policy_match(*, connection_id: int, pipeline_name: str, category: str) -> RetryPolicy | None:
    """The enabled policy with the lowest priority number that matches, or None (then nothing is retried)."""
    for policy in _enabled_policies():
        if policy.matches(connection_id=connection_id, pipeline_name=pipeline_name, category=category):
            return policy
    return None


@memoized
def _enabled_policies() -> list[RetryPolicy]:
    return list(RetryPolicy.objects.filter(enabled=True).order_by("priority", "name"))


def retry_delay(*, policy: RetryPolicy, attempt_number: int, advised_minutes: int = 0, rng=random) -> timedelta:
    """initial × multiplier^(n-1), at least what the analysis advises, capped at the policy's maximum, plus up to
    `jitter` of itself at random."""
    base = policy.backoff_initial_seconds * policy.backoff_multiplier ** (attempt_number - 1)
    seconds = min(max(base, advised_minutes * 60), policy.backoff_max_seconds)
    return timedelta(seconds=seconds * (1 + rng.uniform(0, policy.jitter)))


def retry_verdict(*, run: PipelineRun, advice: RetryAdvice) -> Verdict:
    """Whether a failed run (loaded with its pipeline) may be rerun: only under a matching enabled policy, when the
    advice is to retry with enough confidence and no maintenance window forbids it."""
    pipeline_name = run.pipeline.name
    window = maintenance_window_active(
        connection_id=run.connection_id, pipeline_name=pipeline_name, suppresses="retries"
    )
    policy = retry_policy_match(connection_id=run.connection_id, pipeline_name=pipeline_name, category=advice.category)
    if window is not None:
        return Verdict(policy=None, skip=Skip.MAINTENANCE, params={"window": window.name, "window_id": window.pk})
    if policy is None:
        return Verdict(policy=None, skip=Skip.NO_POLICY, params={"category": advice.category})
    if not advice.should_retry:
        return Verdict(policy=None, skip=Skip.ADVISED_AGAINST, params={"policy": policy.name, "policy_id": policy.pk})
    if advice.confidence < policy.min_confidence:
        params = {
            "policy": policy.name,
            "policy_id": policy.pk,
            "confidence": advice.confidence,
            "required": policy.min_confidence,
        }
        return Verdict(policy=None, skip=Skip.LOW_CONFIDENCE, params=params)
    return Verdict(policy=policy)
