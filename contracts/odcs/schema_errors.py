"""The ODCS JSON Schema (the copy bundled with the open-data-contract-standard package) and the reduction of its
validation errors to one plain problem per mistake: unknown keys named, wrong enums listing the allowed values,
wrong types saying what was expected, and `oneOf`/`anyOf` failures replaced by the sub-error that explains them."""

import copy
import difflib
import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema  # type: ignore[import-untyped]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped]

from contracts.odcs.paths import Path, Problem

_TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "nothing (null)",
}
_UNKNOWN_KEY_VALIDATORS = ("additionalProperties", "unevaluatedProperties")


@cache
def validator() -> jsonschema.Draft201909Validator:
    """A validator for the bundled schema (ODCS v3.2.0, which accepts v3.0.x and v3.1.0 documents)."""
    text = resources.files("open_data_contract_standard").joinpath("schema.json").read_text(encoding="utf-8")
    schema = _require_tested_logical_type(json.loads(text))
    jsonschema.Draft201909Validator.check_schema(schema)
    return jsonschema.Draft201909Validator(schema)


def _require_tested_logical_type(schema: dict[str, Any]) -> dict[str, Any]:
    """The property schema's `if: {properties: {logicalType: {const: map}}}` conditions hold when a property has
    no logicalType at all (JSON Schema's `properties` ignores absent keys), so the bundled schema demands a `map`
    block from every untyped property, which the standard makes optional. Requiring logicalType inside each such
    `if` gives the documented meaning: the type-specific rules apply to properties of that type."""
    schema = copy.deepcopy(schema)
    for condition in schema["$defs"]["SchemaBaseProperty"]["allOf"]:
        test = condition.get("if")
        if test is not None:
            test.setdefault("required", ["logicalType"])
    return schema


def problems(document: object) -> list[Problem]:
    """One problem per mistake the JSON Schema finds in `document`."""
    found = [problem for error in validator().iter_errors(document) for problem in _reduce(error)]
    misspelt = {(p.path[:-1], p.unknown) for p in found if p.unknown is not None}
    kept: dict[tuple[Path, str], Problem] = {}
    for problem in found:
        reduced = _without_misspelt(problem, misspelt) if problem.missing else problem
        if reduced is not None:
            kept.setdefault((reduced.path, reduced.message), reduced)
    return _merge_missing(list(kept.values()))


def _without_misspelt(problem: Problem, misspelt: set[tuple[Path, str]]) -> Problem | None:
    """A missing key next to an unknown key that looks like it is the same mistake is reported once, as the
    unknown key (with its "did you mean"); the problem keeps only the keys no misspelling explains."""
    siblings = [key for path, key in misspelt if path == problem.path and key]
    explained = {match for key in siblings for match in difflib.get_close_matches(key, problem.missing, 1, 0.75)}
    if not explained:
        return problem
    rest = tuple(key for key in problem.missing if key not in explained)
    if not rest or problem.message.startswith("needs one of"):
        return None
    return Problem(problem.path, _missing_message(rest), rest)


def _merge_missing(found: list[Problem]) -> list[Problem]:
    """All required keys missing from one element as a single problem."""
    merged: list[Problem] = []
    by_path: dict[Path, int] = {}
    for problem in found:
        if problem.message.startswith("missing required field") and problem.path in by_path:
            index = by_path[problem.path]
            missing = merged[index].missing + problem.missing
            merged[index] = Problem(problem.path, _missing_message(missing), missing)
            continue
        if problem.message.startswith("missing required field"):
            by_path[problem.path] = len(merged)
        merged.append(problem)
    return merged


def _reduce(error: ValidationError) -> Iterator[Problem]:
    path: Path = tuple(error.absolute_path)
    kind = error.validator
    instance = error.instance
    if kind in _UNKNOWN_KEY_VALIDATORS and isinstance(instance, dict):
        known = _declared_keys(error.schema, instance, depth=0)
        for key in instance:
            if key not in known:
                yield Problem(path + (key,), f"unknown field {key}{_suggestion(key, known)}", unknown=key)
    elif kind == "required" and isinstance(instance, dict):
        missing = tuple(key for key in error.validator_value if key not in instance)
        if missing:
            yield Problem(path, _missing_message(missing), missing)
    elif kind in ("oneOf", "anyOf"):
        yield from _reduce_alternatives(error, path)
    else:
        yield Problem(path, _message(error))


def _reduce_alternatives(error: ValidationError, path: Path) -> Iterator[Problem]:
    branches = error.validator_value
    instance = error.instance
    exclusive_keys = [b["required"][0] for b in branches if len(b.get("required", ())) == 1]
    if isinstance(instance, dict) and len(exclusive_keys) == len(branches):
        # Branches that each require one key: exactly one of those keys must be given (the ODCS operators).
        present = [key for key in exclusive_keys if key in instance]
        if not present:
            yield Problem(path, f"needs one of {', '.join(exclusive_keys)}", tuple(exclusive_keys))
            return
        if len(present) > 1:
            yield Problem(path + (present[1],), f"only one of {', '.join(present)} may be given")
            return
        chosen = exclusive_keys.index(present[0])
        for sub in error.context or []:
            if sub.relative_schema_path and sub.relative_schema_path[0] == chosen:
                yield from _reduce(sub)
        return
    context = list(error.context or [])
    if context and all(sub.validator == "type" and tuple(sub.absolute_path) == path for sub in context):
        expected = [t for sub in context for t in _as_list(sub.validator_value)]
        yield Problem(path, f"expected {_words(expected)}, got {_describe_value(instance)}")
        return
    if not context:
        yield Problem(path, _message(error))
        return
    best = max(context, key=lambda sub: (len(sub.absolute_path), sub.validator not in ("type", "required")))
    yield from _reduce(best)


def _missing_message(keys: tuple[str, ...]) -> str:
    return f"missing required field{'s' if len(keys) > 1 else ''} {', '.join(keys)}"


def _message(error: ValidationError) -> str:
    value, instance = error.validator_value, error.instance
    match error.validator:
        case "type":
            return f"expected {_words(_as_list(value))}, got {_describe_value(instance)}"
        case "enum":
            allowed = ", ".join(str(v) for v in value)
            hint = _suggestion(instance, [str(v) for v in value]) if isinstance(instance, str) else ""
            return f"{instance!r} is not allowed{hint}; use one of: {allowed}"
        case "const":
            return f"must be {value!r}"
        case "minItems":
            return f"needs at least {value} item{'s' if value != 1 else ''}"
        case "maxItems":
            return f"takes at most {value} item{'s' if value != 1 else ''}"
        case "uniqueItems":
            return "lists the same value more than once"
        case "pattern":
            return f"{instance!r} does not match the pattern {value}"
        case "minimum":
            return f"must be at least {value}"
        case "maximum":
            return f"must be at most {value}"
        case "exclusiveMinimum":
            return f"must be greater than {value}"
        case "exclusiveMaximum":
            return f"must be less than {value}"
        case "minLength":
            return f"must be at least {value} characters long"
        case "maxLength":
            return f"must be at most {value} characters long"
    return error.message


def _declared_keys(schema: object, instance: dict[str, Any], *, depth: int) -> set[str]:
    """Every key a schema declares for `instance`: its own `properties`, those of its `$ref`, `allOf`/`anyOf`/
    `oneOf` branches, and of the `then` of conditions the instance meets. Unlike `unevaluatedProperties`, this does
    not drop the keys of a branch that failed, so a known key is never reported as unknown because of a different
    mistake next to it."""
    if not isinstance(schema, dict) or depth > 20:
        return set()
    keys = set(schema.get("properties", {}))
    if "$ref" in schema:
        keys |= _declared_keys(_resolve(schema["$ref"]), instance, depth=depth + 1)
    for combinator in ("allOf", "anyOf", "oneOf"):
        for branch in schema.get(combinator, ()):
            keys |= _declared_keys(branch, instance, depth=depth + 1)
    if "if" in schema and validator().evolve(schema=schema["if"]).is_valid(instance):
        keys |= _declared_keys(schema.get("then"), instance, depth=depth + 1)
    return keys


def _resolve(reference: str) -> object:
    node: object = validator().schema
    for part in reference.removeprefix("#/").split("/"):
        node = node.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(node, dict) else {}
    return node


def _suggestion(word: str, choices: object) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.75)  # type: ignore[attr-defined]
    return f" (did you mean {close[0]}?)" if close else ""


def _as_list(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _words(types: list[str]) -> str:
    if "number" in types:  # every whole number is a number
        types = [t for t in types if t != "integer"]
    words = list(dict.fromkeys(_TYPE_WORDS.get(t, t) for t in types))
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _describe_value(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "nothing (null)"}[value]
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
