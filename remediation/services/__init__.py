"""Writes of the remediation app: retry policies, attempts and the rerun engine."""

from remediation.services.attempts import (
    Decision,
    Escalation,
    Scheduled,
    pipeline_run_retry,
    remediation_decide,
    retry_attempt_continue,
    retry_attempt_outcome_taken,
    retry_attempt_schedule,
    retry_attempts_cancel,
)
from remediation.services.engine import (
    remediation_tick,
    retry_attempt_execute,
    retry_attempt_follow,
    retry_attempt_reconcile,
    retry_attempts_follow_succeeded,
)
from remediation.services.policies import (
    RetryAdvice,
    Skip,
    retry_delay,
    retry_policy_defaults_ensure,
    retry_policy_match,
    retry_verdict,
)

__all__ = [
    "Decision",
    "Escalation",
    "RetryAdvice",
    "Scheduled",
    "Skip",
    "pipeline_run_retry",
    "remediation_decide",
    "remediation_tick",
    "retry_attempt_continue",
    "retry_attempt_execute",
    "retry_attempt_follow",
    "retry_attempt_outcome_taken",
    "retry_attempt_reconcile",
    "retry_attempt_schedule",
    "retry_attempts_cancel",
    "retry_attempts_follow_succeeded",
    "retry_delay",
    "retry_policy_defaults_ensure",
    "retry_policy_match",
    "retry_verdict",
]
