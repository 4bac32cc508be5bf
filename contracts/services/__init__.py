"""Writes of the contracts app: publishing versions (publish), running checks (checks) and queueing them
(queueing)."""

from contracts.services.publish import contract_save

__all__ = ["contract_save"]
