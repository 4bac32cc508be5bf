"""Channel-layer group names of the contracts app, built in one place, and the broadcasts its services make."""

from collections.abc import Iterable

from aimsweb.realtime import broadcast_after_commit

CONTRACT_LIST_GROUP = "contracts.list"


def contract_group(contract_id: int) -> str:
    """The group of one contract's page."""
    return f"contract.{contract_id}"


def contract_changed_broadcast(*, contract_ids: Iterable[int]) -> None:
    """Tell the contract list and each contract's page that a check finished or a version was published (after
    commit)."""
    ids = sorted(set(contract_ids))
    if not ids:
        return
    broadcast_after_commit(group=CONTRACT_LIST_GROUP, event="contract.changed", ids=ids)
    for contract_id in ids:
        broadcast_after_commit(group=contract_group(contract_id), event="contract.changed", ids=[contract_id])
