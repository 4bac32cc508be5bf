"""Writes for data contracts."""

import hashlib

from django.db import transaction

from contracts.models import ContractVersion, DataContract
from contracts.odcs.parse import parse_contract


@transaction.atomic
def contract_save(*, contract: DataContract, user=None) -> DataContract:
    """Save a contract and publish its YAML as a new active version when the text is new (raises
    ContractSpecError, saving nothing, when the YAML is not a valid contract)."""
    spec = parse_contract(contract.yaml_text)
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
        )
    if contract.active_version_id != version.id:
        contract.active_version = version
        contract.save(update_fields=["active_version", "updated_at"])
    return contract
