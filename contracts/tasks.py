"""django-q2 tasks of the contracts app: each loads ids, calls one service and lets errors surface."""

from contracts.services import checks, queueing


def contract_check_task(
    contract_id: int, trigger: str = "schedule", run_id: int | None = None, requested_by_id: int | None = None
) -> dict:
    try:
        summary = checks.contract_check(
            contract_id=int(contract_id), trigger=trigger, run_id=run_id, requested_by_id=requested_by_id
        )
    except checks.CheckNotPossible as exc:
        return {"skipped": str(exc)}
    return summary.__dict__


def contracts_due_check_task() -> int:
    return queueing.contracts_due_queue()
