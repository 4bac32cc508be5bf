"""The offline classifier's knowledge base: rules kept as YAML data, loaded and validated once.

``incidents/analysis/knowledge/README.md`` documents the rule format. Every pattern carries the literals it cannot
match without (derived from its parse tree), so the engine (``offline.py``) runs a pattern only when one of them occurs
in the message.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

# The regex parser, used only to derive each pattern's required literals. Python 3.11 moved it into re's private
# modules (importing the old names warns); typeshed describes it only under the old names.
if TYPE_CHECKING:
    import sre_constants as _sre_c
    import sre_parse as _sre_p
else:
    from re import _constants as _sre_c
    from re import _parser as _sre_p

from aimsweb.choices import ErrorCategory, Severity

KNOWLEDGE_DIR = Path(__file__).with_name("knowledge")
CATEGORY_FILE = "_categories.yaml"

UNKNOWN_CONFIDENCE_CAP = 40
MIN_LITERAL = 3  # shortest required literal worth prefiltering on

SOURCE_SYSTEMS = frozenset({"adf", "databricks"})
RULE_KEYS = frozenset({
    "id", "category", "severity", "should_retry", "retry_delay_minutes", "confidence", "priority", "source_system",
    "patterns", "codes", "summary", "root_cause", "actions", "defaults", "claim",
})  # fmt: skip
REQUIRED_RULE_KEYS = frozenset({"id", "category", "summary"})
CATEGORY_KEYS = frozenset({"severity", "should_retry", "retry_delay_minutes", "confidence", "priority", "actions"})
_COMMON_WORDS = frozenset({
    "error", "errors", "code", "status", "failed", "failure", "exception", "http", "the", "and", "for", "with", "not",
    "invalid", "cannot", "message", "operation", "request", "file", "data", "type", "value", "column", "table",
})  # fmt: skip


class KnowledgeBaseError(ValueError):
    """A knowledge file is unusable; the message names the file and, where there is one, the rule."""


@dataclass(frozen=True)
class Rule:
    id: str
    file: str
    category: ErrorCategory
    severity: Severity
    should_retry: bool
    retry_delay_minutes: int
    confidence: int
    priority: float
    source_systems: frozenset[str]
    patterns: tuple[tuple[re.Pattern[str], frozenset[str] | None], ...]  # regex, literals it cannot match without
    codes: tuple[re.Pattern[str], ...]
    summary: str
    root_cause: str
    actions: tuple[str, ...]
    defaults: Mapping[str, str]
    claim: bool = False  # matches only the message's description of itself; not trusted next to instructions


@dataclass(frozen=True)
class Match:
    rule: Rule
    score: float
    groups: Mapping[str, str]
    by_text: bool
    by_code: bool
    inner: bool = True  # the evidence lies in the innermost cause of the message, not only in a wrapper


@dataclass(frozen=True)
class KnowledgeBase:
    rules: tuple[Rule, ...]
    fallback: Mapping[str, Any]
    categories: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per-category defaults
    # derived: per rule the union of its patterns' literals (None: some pattern has none and is always tried), and
    # every literal indexed by its first characters, so a message is scanned for literals once
    rule_literals: tuple[frozenset[str] | None, ...] = field(init=False, repr=False)
    literals_by_prefix: Mapping[str, tuple[str, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        per_rule = tuple(
            None
            if any(literals is None for _, literals in rule.patterns)
            else frozenset[str]().union(*(literals for _, literals in rule.patterns if literals is not None))
            for rule in self.rules
        )
        by_prefix: dict[str, list[str]] = {}
        for literal in frozenset().union(*(literals for literals in per_rule if literals)):
            by_prefix.setdefault(literal[:MIN_LITERAL], []).append(literal)
        object.__setattr__(self, "rule_literals", per_rule)
        object.__setattr__(self, "literals_by_prefix", {k: tuple(v) for k, v in by_prefix.items()})

    def present_literals(self, lowered: str) -> set[str]:
        """The prefilter literals occurring in ``lowered`` (only those whose first characters occur are searched)."""
        grams = {lowered[i : i + MIN_LITERAL] for i in range(len(lowered) - MIN_LITERAL + 1)}
        index = self.literals_by_prefix
        return {literal for gram in grams.intersection(index) for literal in index[gram] if literal in lowered}


# ---------------------------------------------------------------------------------------------------------- loading
def load_knowledge(directory: Path = KNOWLEDGE_DIR) -> KnowledgeBase:
    """Read and validate every YAML file in ``directory``; raise KnowledgeBaseError naming the file and rule."""
    category_path = directory / CATEGORY_FILE
    if not category_path.is_file():
        raise KnowledgeBaseError(f"{category_path}: missing (category defaults and the fallback live there)")
    category_defaults, fallback = _parse_categories(_read_yaml(category_path), CATEGORY_FILE)

    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == CATEGORY_FILE:
            continue
        doc = _read_yaml(path)
        if not isinstance(doc, dict) or not isinstance(doc.get("rules"), list):
            raise KnowledgeBaseError(f"{path.name}: expected a mapping with a 'rules' list")
        for index, raw in enumerate(doc["rules"]):
            rule = _parse_rule(raw, path.name, index, category_defaults)
            if rule.id in seen:
                raise KnowledgeBaseError(f"{path.name}: rule '{rule.id}': duplicate id (also in {seen[rule.id]})")
            seen[rule.id] = path.name
            rules.append(rule)
    if not rules:
        raise KnowledgeBaseError(f"{directory}: no rules found")
    return KnowledgeBase(tuple(rules), fallback, category_defaults)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError(f"{path.name}: not valid YAML: {exc}") from exc


def _parse_categories(doc: Any, file: str) -> tuple[dict[str, Mapping[str, Any]], Mapping[str, Any]]:
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("categories"), dict)
        or not isinstance(doc.get("fallback"), dict)
    ):
        raise KnowledgeBaseError(f"{file}: expected 'categories' and 'fallback' mappings")
    categories: dict[str, Mapping[str, Any]] = {}
    for name, values in doc["categories"].items():
        where = f"{file}: category '{name}'"
        if name not in ErrorCategory.values:
            raise KnowledgeBaseError(f"{where}: unknown category (expected one of {', '.join(ErrorCategory.values)})")
        if not isinstance(values, dict) or set(values) - CATEGORY_KEYS:
            raise KnowledgeBaseError(f"{where}: expected a mapping with keys among {sorted(CATEGORY_KEYS)}")
        categories[name] = values
    missing = set(ErrorCategory.values) - set(categories)
    if missing:
        raise KnowledgeBaseError(f"{file}: no defaults for categories {sorted(missing)}")
    fallback = doc["fallback"]
    for key in ("summary", "root_cause", "actions", "confidence"):
        if key not in fallback:
            raise KnowledgeBaseError(f"{file}: fallback: missing '{key}'")
    if not isinstance(fallback["confidence"], int) or not 0 <= fallback["confidence"] <= UNKNOWN_CONFIDENCE_CAP:
        raise KnowledgeBaseError(f"{file}: fallback: confidence must be an integer in 0..{UNKNOWN_CONFIDENCE_CAP}")
    if fallback.get("severity", Severity.MEDIUM) not in Severity.values:
        raise KnowledgeBaseError(f"{file}: fallback: unknown severity '{fallback['severity']}'")
    for template in [fallback["summary"], fallback["root_cause"], *fallback["actions"]]:
        _check_template(template, f"{file}: fallback")
    return categories, fallback


def _parse_rule(raw: Any, file: str, index: int, category_defaults: Mapping[str, Mapping[str, Any]]) -> Rule:
    rule_id = raw.get("id") if isinstance(raw, dict) else None
    where = f"{file}: rule '{rule_id}'" if rule_id else f"{file}: rule #{index + 1}"
    if not isinstance(raw, dict):
        raise KnowledgeBaseError(f"{where}: expected a mapping")
    if unknown := set(raw) - RULE_KEYS:
        raise KnowledgeBaseError(f"{where}: unknown keys {sorted(unknown)}")
    if missing := REQUIRED_RULE_KEYS - set(raw):
        raise KnowledgeBaseError(f"{where}: missing keys {sorted(missing)}")
    if not isinstance(rule_id, str) or not re.fullmatch(r"[a-z0-9_]+", rule_id):
        raise KnowledgeBaseError(f"{where}: id must be lower_snake_case")

    category = raw["category"]
    if category not in ErrorCategory.values:
        raise KnowledgeBaseError(f"{where}: unknown category '{category}' (expected one of {ErrorCategory.values})")
    values = {**category_defaults[category], **raw}
    if values.get("severity") not in Severity.values:
        raise KnowledgeBaseError(f"{where}: unknown severity '{values.get('severity')}'")
    if not isinstance(values.get("should_retry"), bool):
        raise KnowledgeBaseError(f"{where}: should_retry must be true or false")
    for key, low, high in (("retry_delay_minutes", 0, 1440), ("confidence", 0, 100), ("priority", 0, 1000)):
        if (
            not isinstance(values.get(key), int | float)
            or isinstance(values[key], bool)
            or not low <= values[key] <= high
        ):
            raise KnowledgeBaseError(f"{where}: {key} must be a number in {low}..{high}")
    if category == ErrorCategory.UNKNOWN and values["confidence"] > UNKNOWN_CONFIDENCE_CAP:
        raise KnowledgeBaseError(f"{where}: an 'unknown' rule's confidence must be <= {UNKNOWN_CONFIDENCE_CAP}")
    if values["should_retry"] and category != ErrorCategory.TRANSIENT:
        raise KnowledgeBaseError(f"{where}: only transient rules may set should_retry")
    if not isinstance(raw.get("claim", False), bool):
        raise KnowledgeBaseError(f"{where}: claim must be true or false")

    systems = raw.get("source_system", [])
    systems = [systems] if isinstance(systems, str) else systems
    if not isinstance(systems, list) or set(systems) - SOURCE_SYSTEMS:
        raise KnowledgeBaseError(f"{where}: source_system must be among {sorted(SOURCE_SYSTEMS)}")

    patterns = tuple(
        (p, required_literals(p.pattern)) for p in _compile_all(raw.get("patterns", []), where, "patterns")
    )
    codes = _compile_all(raw.get("codes", []), where, "codes")
    if not patterns and not codes:
        raise KnowledgeBaseError(f"{where}: needs at least one of 'patterns' or 'codes'")

    actions = values.get("actions") or []
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions) or len(actions) > 10:
        raise KnowledgeBaseError(f"{where}: actions must be a list of at most 10 strings")
    defaults = raw.get("defaults", {})
    if not isinstance(defaults, dict):
        raise KnowledgeBaseError(f"{where}: defaults must be a mapping")
    root_cause = values.get("root_cause", "")
    for template in [values["summary"], root_cause, *actions]:
        _check_template(template, where)

    return Rule(
        id=rule_id,
        file=file,
        category=ErrorCategory(category),
        severity=Severity(values["severity"]),
        should_retry=values["should_retry"],
        retry_delay_minutes=int(values["retry_delay_minutes"]) if values["should_retry"] else 0,
        confidence=int(values["confidence"]),
        priority=float(values["priority"]),
        source_systems=frozenset(systems),
        patterns=patterns,
        codes=codes,
        summary=values["summary"],
        root_cause=root_cause,
        actions=tuple(actions),
        defaults={str(k): str(v) for k, v in defaults.items()},
        claim=raw.get("claim", False),
    )


def _compile_all(raw: Any, where: str, key: str) -> tuple[re.Pattern[str], ...]:
    raw = [raw] if isinstance(raw, str | int) else raw
    if not isinstance(raw, list):
        raise KnowledgeBaseError(f"{where}: {key} must be a list")
    compiled = []
    for item in raw:
        try:
            compiled.append(re.compile(str(item), re.IGNORECASE))
        except re.error as exc:
            raise KnowledgeBaseError(f"{where}: bad regex in {key} {item!r}: {exc}") from exc
    return tuple(compiled)


def _check_template(template: Any, where: str) -> None:
    if not isinstance(template, str):
        raise KnowledgeBaseError(f"{where}: templates must be strings")
    try:
        for _, name, spec, conversion in string.Formatter().parse(template):
            if name is not None and (not name.isidentifier() or spec or conversion):
                raise ValueError(f"placeholder {{{name}}} must be a plain name")
    except ValueError as exc:
        raise KnowledgeBaseError(f"{where}: bad template {template!r}: {exc}") from exc


def required_literals(pattern: str) -> frozenset[str] | None:
    """Lowercase literals at least one of which occurs in every text the case-insensitive ``pattern`` matches.

    Derived from the regex parse tree (required literal runs, the alternatives of a required group), so skipping a
    pattern whose literals are all absent never loses a match. None when no literal of useful length is required.
    """
    try:
        found = _required(_sre_p.parse(pattern, re.IGNORECASE).data)
    except Exception:  # noqa: BLE001 - any parser surprise just disables the prefilter for this pattern
        return None
    return frozenset(found) if found and min(map(len, found)) >= MIN_LITERAL else None


def _required(items: list[Any]) -> set[str] | None:
    candidates: list[set[str]] = []
    run: list[str] = []
    for op, av in items:
        if op is _sre_c.LITERAL:
            run.append(chr(av).lower())
            continue
        if run:
            candidates.append({"".join(run)})
            run = []
        sub = None
        if op is _sre_c.SUBPATTERN:
            sub = _required(list(av[-1]))
        elif op is _sre_c.BRANCH:
            alternatives = [_required(list(branch)) for branch in av[1]]
            sub = set[str]().union(*(a for a in alternatives if a)) if alternatives and all(alternatives) else None
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT) and av[0] >= 1:
            sub = _required(list(av[2]))
        if sub:
            candidates.append(sub)
    if run:
        candidates.append({"".join(run)})
    # the most selective requirement: longest shortest-literal (common words count as short), then fewest alternatives
    return max(candidates, key=lambda c: (min(_selectivity(literal) for literal in c), -len(c)), default=None)


def _selectivity(literal: str) -> int:
    return 1 if literal.strip(" .:'\"()[]_-") in _COMMON_WORDS else len(literal)
