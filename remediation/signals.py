"""What the rerun engine announces (after commit, ids only) for the layers above it, which keep the incident and its
timeline: the engine itself never reads incidents."""

from django.dispatch import Signal

# attempt_id, adopted (a claimed attempt whose rerun a stopped worker had started)
attempt_started = Signal()
# attempt_id, reason (a Cancel code), reason_params (plain values for the reason's words)
attempt_cancelled = Signal()
# attempt_id: recorded as succeeded, failed or error (could not be started); announced again by the remediation
# tick until a receiver marks it taken in (retry_attempt_outcome_taken)
attempt_finished = Signal()

SENDER = "remediation"
