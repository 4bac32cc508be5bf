"""Writes of the contracts app: publishing versions (publish), running checks (checks) and queueing them
(queueing)."""

from contracts.services.publish import BreakingChangeNotConfirmed, contract_changes_against_active, contract_save

__all__ = ["BreakingChangeNotConfirmed", "contract_changes_against_active", "contract_save"]
