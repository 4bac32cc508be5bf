"""Writes for data contracts."""

import hashlib

import yaml
from django.db import transaction

from contracts.models import ContractVersion, DataContract
from contracts.odcs.diff import Change, contract_changes, verdict
from contracts.odcs.parse import parse_contract
from contracts.realtime import contract_changed_broadcast


class BreakingChangeNotConfirmed(Exception):
    """The new text breaks the active version's consumers and the publisher has not confirmed it."""

    def __init__(self, changes: list[Change]):
        self.changes = [change for change in changes if change.level == "breaking"]
        super().__init__("breaking changes: " + ", ".join(f"{c.path} ({c.kind})" for c in self.changes))


def contract_changes_against_active(*, contract: DataContract, yaml_text: str) -> list[Change]:
    """What publishing `yaml_text` would change against the contract's active version (none for a first version)."""
    active = contract.active_version if contract.pk else None
    if active is None or active.yaml_text == yaml_text:
        return []
    old, new = yaml.safe_load(active.yaml_text), yaml.safe_load(yaml_text)
    if not isinstance(old, dict) or not isinstance(new, dict):
        return []
    return contract_changes(old, new)


@transaction.atomic
def contract_save(*, contract: DataContract, user=None, note: str = "", confirm_breaking: bool = False) -> DataContract:
    """Save a contract and publish its YAML as a new active version when the text is new, recording its changes
    against the version it replaces, who published it and why (raises ContractSpecError, or
    BreakingChangeNotConfirmed when the text is breaking and not confirmed, saving nothing in both cases)."""
    spec = parse_contract(contract.yaml_text)
    changes = contract_changes_against_active(contract=contract, yaml_text=contract.yaml_text)
    breaking = verdict(changes) == "breaking"
    if breaking and not confirm_breaking:
        raise BreakingChangeNotConfirmed(changes)
    contract.save()
    checksum = hashlib.sha256(contract.yaml_text.encode()).hexdigest()
    version = ContractVersion.objects.filter(contract=contract, checksum=checksum).first()
    if version is None:
        latest = contract.versions.select_for_update().order_by("-number").values_list("number", flat=True).first()
        version = ContractVersion.objects.create(
            contract=contract,
            number=(latest or 0) + 1,
            yaml_text=contract.yaml_text,
            spec=spec,
            checksum=checksum,
            published_by=user if user is not None and user.is_authenticated else None,
            changes=[change.as_dict() for change in changes],
            breaking=breaking,
            publish_note=note,
        )
    if contract.active_version_id != version.id:
        contract.active_version = version
        contract.save(update_fields=["active_version", "updated_at"])
    contract_changed_broadcast(contract_ids=[contract.pk])
    return contract
