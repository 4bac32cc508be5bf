"""Reading a data contract: ODCS v3 YAML (3.1, with the 3.2 additions) validated against the standard's JSON Schema
and AIMS's own checks, with every mistake reported at once as "line N, <path>: <message>"."""

from typing import Any

from contracts.odcs import schema_errors, semantics
from contracts.odcs.paths import element_path
from contracts.odcs.yaml_source import line_of, load


class ContractSpecError(ValueError):
    """The YAML is not a valid contract; `errors` holds one message per problem, each naming line and field."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


def parse_contract(yaml_text: str) -> dict[str, Any]:
    """The contract document as plain JSON data (what ContractVersion.spec stores); ContractSpecError listing
    every mistake, in line order, when the YAML is not a valid ODCS v3 contract."""
    source, yaml_errors = load(yaml_text)
    if source is None:
        raise ContractSpecError(yaml_errors)
    document = source.data
    if not isinstance(document, dict):
        raise ContractSpecError(["line 1: a contract is a mapping (apiVersion, kind, id, version, schema, ...)"])
    found = schema_errors.problems(document)
    reported = {problem.path for problem in found}
    # A value the schema already refused is one mistake, reported once.
    found += [problem for problem in semantics.problems(document) if problem.path not in reported]
    if found:
        located = sorted((line_of(source.root, p.path), element_path(document, p.path), p.message) for p in found)
        raise ContractSpecError([f"line {line}, {path}: {message}" for line, path, message in located])
    return document
