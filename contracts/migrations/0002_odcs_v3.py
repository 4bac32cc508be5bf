"""Existing contracts, written in AIMS's first format (table, columns, freshness, row_count), rewritten as ODCS
v3.1 contracts. Self-contained on purpose: the conversion must not change when the app's code does. Texts that are
already ODCS (they have an apiVersion) are left alone."""

import hashlib
import re
import uuid

import yaml
from django.db import migrations

HEADER = "# Converted to ODCS v3.1 from AIMS's first contract format.\n"
_LOGICAL_TYPES = (
    (r"(big|small|tiny)?int(eger)?\d*|(big)?serial|long|short", "integer"),
    (r"numeric|decimal|number|float\d*|double( precision)?|real|money", "number"),
    (r"(var)?char(acter)?( varying)?|n?varchar\d*|n?text|string|uuid|citext", "string"),
    (r"date", "date"),
    (r"timestamp(tz)?( with(out)? time zone)?|datetime\d*|timestamp_n?tz", "timestamp"),
    (r"time(tz)?( with(out)? time zone)?", "time"),
    (r"bool(ean)?", "boolean"),
)


def _logical_type(physical_type: object) -> str | None:
    if not isinstance(physical_type, str):
        return None
    base = re.sub(r"\(.*\)", "", physical_type).strip().lower()
    return next((logical for pattern, logical in _LOGICAL_TYPES if re.fullmatch(pattern, base)), None)


def _property(column: dict) -> tuple[dict, list[dict]]:
    """An old column as an ODCS property, and the quality rules it needs."""
    prop: dict = {"name": column["name"]}
    logical = _logical_type(column.get("type"))
    bounded = column.get("min") is not None or column.get("max") is not None
    if bounded and logical not in ("integer", "number"):
        logical = "number"  # min/max only ever bounded numbers
    if column.get("pattern") and not bounded and logical is None:
        logical = "string"
    if logical:
        prop["logicalType"] = logical
    if column.get("type"):
        prop["physicalType"] = column["type"]
    if column.get("nullable") is False:
        prop["required"] = True
    if column.get("unique"):
        prop["unique"] = True
    options: dict = {}
    rules: list[dict] = []
    if column.get("min") is not None:
        options["minimum"] = column["min"]
    if column.get("max") is not None:
        options["maximum"] = column["max"]
    if column.get("pattern") and logical == "string":
        options["pattern"] = column["pattern"]
    elif column.get("pattern"):
        rules.append(_invalid_values(column["name"], "pattern", {"pattern": column["pattern"]}))
    if column.get("allowed_values"):
        rules.append(_invalid_values(column["name"], "valid_values", {"validValues": list(column["allowed_values"])}))
    if options:
        prop["logicalTypeOptions"] = options
    return prop, rules


def _invalid_values(column: str, suffix: str, arguments: dict) -> dict:
    return {"id": f"{column}_{suffix}", "metric": "invalidValues", "arguments": arguments, "mustBe": 0}


def convert(name: str, old: dict) -> dict:
    """The ODCS v3.1 document equivalent to an old-format contract."""
    table = old["table"]
    object_name = table.rsplit(".", 1)[-1]
    properties = []
    for column in old.get("columns", []):
        prop, rules = _property(column)
        if rules:
            prop["quality"] = rules
        properties.append(prop)
    freshness = old.get("freshness")
    if freshness and freshness["column"] not in {p["name"] for p in properties}:
        properties.append({"name": freshness["column"], "logicalType": "timestamp"})
    obj: dict = {"name": object_name, "physicalName": table, "physicalType": "table", "properties": properties}
    row_count = old.get("row_count") or {}
    quality = [
        {"id": f"{object_name}_row_count_{bound}", "metric": "rowCount", operator: row_count[bound]}
        for bound, operator in (("min", "mustBeGreaterOrEqualTo"), ("max", "mustBeLessOrEqualTo"))
        if row_count.get(bound) is not None
    ]
    if quality:
        obj["quality"] = quality
    document: dict = {
        "apiVersion": "v3.1.0",
        "kind": "DataContract",
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"aims:contract:{name}")),
        "name": name,
        "version": "1.0.0",
        "status": "active",
    }
    if old.get("description"):
        document["description"] = {"purpose": old["description"]}
    document["schema"] = [obj]
    if freshness:
        document["slaProperties"] = [
            {
                "property": "freshness",
                "value": freshness["max_age_minutes"],
                "unit": "m",
                "element": f"{object_name}.{freshness['column']}",
            }
        ]
    return document


def _converted_text(name: str, text: str, note: str = "") -> str | None:
    """The ODCS text for an old-format text, None when the text is not in the old format (already ODCS)."""
    try:
        old = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(old, dict) or "apiVersion" in old or "table" not in old:
        return None
    return HEADER + note + yaml.safe_dump(convert(name, old), sort_keys=False, allow_unicode=True)


def forwards(apps, schema_editor):
    DataContract = apps.get_model("contracts", "DataContract")
    ContractVersion = apps.get_model("contracts", "ContractVersion")
    for contract in DataContract.objects.all():
        new_texts: dict[str, str] = {}
        checksums: set[str] = set()
        for version in ContractVersion.objects.filter(contract=contract).order_by("number"):
            text = _converted_text(contract.name, version.yaml_text)
            if text is None:
                continue
            checksum = hashlib.sha256(text.encode()).hexdigest()
            if checksum in checksums:  # two old texts that differed only in layout: keep their versions apart
                text = _converted_text(contract.name, version.yaml_text, f"# Version {version.number}.\n")
                checksum = hashlib.sha256(text.encode()).hexdigest()
            checksums.add(checksum)
            new_texts[version.yaml_text] = text
            version.yaml_text, version.spec, version.checksum = text, yaml.safe_load(text), checksum
            version.save(update_fields=["yaml_text", "spec", "checksum"])
        text = new_texts.get(contract.yaml_text) or _converted_text(contract.name, contract.yaml_text)
        if text is not None:
            contract.yaml_text = text
            contract.save(update_fields=["yaml_text"])


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
