"""What the contracts layer announces (after commit, ids only) for the layers above it."""

from django.dispatch import Signal

SENDER = "contracts"

# check_run_id: a check finished with measurements of its tables (CheckRun.metrics)
check_measured = Signal()
