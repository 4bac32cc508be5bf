"""What the sources layer announces (after commit, ids and plain values only) for the layers above it."""

from django.dispatch import Signal

SENDER = "monitors"

# connection_id, pipeline_ids: runs newly seen failed (their detail is being fetched)
runs_failed = Signal()
# connection_id, run_ids, immediate: failed runs whose detail is now stored; immediate asks the receiver to act in
# this same task (a webhook: from delivery to incident in one task) rather than queue its work
failures_detailed = Signal()
# connection_id, external_run_ids, pipeline_ids: runs newly seen succeeded
runs_succeeded = Signal()
