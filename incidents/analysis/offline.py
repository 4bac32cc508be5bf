"""Offline failure classifier: regex rules kept as YAML data, no LLM and no network.

The knowledge lives in ``incidents/analysis/knowledge/*.yaml`` (its README.md documents the rule format). This module
loads and validates those rules once, scores every rule that matches a message and renders the best one:

* Evidence. A rule matches on text (one of its ``patterns`` finds something) and/or on an error code (one of its
  ``codes`` fully matches the ``error_code`` argument or a code found in the message: ``ErrorCode=...``,
  ``"errorCode": ...``, ``"StatusCode": "DF-..."``, ``[SPARK_ERROR_CLASS]``, a termination ``code``, SQL Server error
  numbers as ``sql:<n>``...).
* Score. The rule's ``priority``, plus a bonus when text and code agree, plus a tiny tie-break for the match found
  later in the text (an inner "Caused by" comes after its wrapper). Priorities encode specificity: wrappers such as
  "Job aborted due to stage failure" are low, a precise cause such as "No space left on device" is high, so the inner
  cause wins over the wrapper.
* Ambiguity. When the best rule of a *different* category scores within ``AMBIGUITY_MARGIN``, confidence drops and the
  root cause names the alternative. Conflicts are settled by priority, deliberately: throttling (429, rate limit)
  outranks a bare 403 or a "permission" word, because APIs report quota limits as 403 and a throttled call succeeds
  later; an explicit authorisation failure (PERMISSION_DENIED, AuthorizationPermissionMismatch, login failed) outranks
  throttling, because a denied call never succeeds on retry and a wrong retry costs more than a missed one.
* Untrusted text. The message is only ever matched against regexes; nothing in it is followed as an instruction.
  When it carries instruction-like text ("ignore previous instructions", "should_retry"), the sentences holding that
  text are blanked before matching, weak rules (priority below ``WEAK_PRIORITY``) and rules that merely repeat the
  message's claims about itself (``claim: true``, e.g. "this is a transient error") are ignored, confidence is capped
  and the root cause says so: a crafted message cannot talk its way into an automatic retry.
* Fallback. No match gives category ``unknown``, no retry, low confidence and generic but useful actions.
* Speed. Every pattern carries the literals it cannot match without (derived from its parse tree); a pattern is only
  run when one of them occurs in the message, so most of the ~250 rules cost a set lookup.
"""

from __future__ import annotations

import functools
import html
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:  # the regex parser, used only to derive each pattern's required literals
    from re import _constants as _sre_c
    from re import _parser as _sre_p
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_p  # type: ignore[no-redef]

from aimsweb.choices import ErrorCategory, Severity
from incidents.analysis.schema import AnalysisResult

KNOWLEDGE_DIR = Path(__file__).with_name("knowledge")
CATEGORY_FILE = "_categories.yaml"

CODE_BONUS = 8.0  # text and code evidence agree
AMBIGUITY_MARGIN = 10.0  # a different category this close lowers confidence
AMBIGUITY_PENALTY = 12
WEAK_PRIORITY = 40  # rules below this are ignored when the message carries instruction-like text
INJECTION_CONFIDENCE_CAP = 60
UNKNOWN_CONFIDENCE_CAP = 40
MAX_TEXT = 20_000  # characters examined: head and tail of very long traces
MAX_VALUE = 160  # characters of a captured name shown in a template
MIN_LITERAL = 3  # shortest required literal worth prefiltering on

SOURCE_SYSTEMS = frozenset({"adf", "databricks"})
RULE_KEYS = frozenset({
    "id", "category", "severity", "should_retry", "retry_delay_minutes", "confidence", "priority", "source_system",
    "patterns", "codes", "summary", "root_cause", "actions", "defaults", "claim",
})  # fmt: skip
REQUIRED_RULE_KEYS = frozenset({"id", "category", "summary"})
CATEGORY_KEYS = frozenset({"severity", "should_retry", "retry_delay_minutes", "confidence", "priority", "actions"})
# Placeholders every template may use; the engine fills them from the call and the message when it can.
GENERIC_PLACEHOLDERS = {
    "code": "no error code",
    "activity": "the failed activity",
    "in_activity": "",
    "source_system": "the platform",
    "pipeline": "the pipeline",
    "failed_step": "the failed step",
    "what": "see the error message",
    "first_line": "empty error message",
}

_I = re.IGNORECASE
# Error codes embedded in messages. SQL Server error numbers are namespaced ("sql:1205") so they never collide with
# ADF's numeric activity codes.
_CODE_EXTRACTORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, flags), prefix)
    for pattern, flags, prefix in (
        (r"\bErrorCode\s*=\s*'?([A-Za-z][\w-]{2,})", _I, ""),
        (r"\bError\s*Code\s*:\s*'?([A-Za-z][\w-]{2,}|\d{3,4})\b", _I, ""),
        (r"[\"']?\berror_?code[\"']?\s*[:=]\s*[\"']?([\w.-]{3,})", _I, ""),
        (r"[\"']?\bStatusCode[\"']?\s*:\s*[\"']([\w-]{3,})", _I, ""),
        (r"[\"']?\bcode[\"']?\s*[:=]\s*[\"']?([A-Za-z][\w.-]{2,}|\d{3,4})\b", _I, ""),
        (r"\b(DF-[A-Za-z0-9]+-[\w-]+)", _I, ""),
        (r"\[([A-Z][A-Z0-9_]{3,}(?:\.[A-Z0-9_]+)*)\]", 0, ""),  # Spark error classes
        (r"(?:^|[\s:(])([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)(?=[:(])", 0, ""),  # "REQUEST_LIMIT_EXCEEDED: ..."
        (r"\bSqlErrorNumber\s*=\s*(-?\d+)", _I, "sql:"),
        (r"\bSql error number:?\s*(-?\d+)", _I, "sql:"),
        (r"\bErrors=\[\{Class=\d+,Number=(-?\d+)", _I, "sql:"),
        (r"\bMsg\s+(\d+),\s*Level\b", _I, "sql:"),
    )
)
_ACTIVITY_EXTRACTORS = (
    re.compile(r"Operation on target (?P<activity>[^:\n]{1,120}?) failed", _I),
    re.compile(r"[\"']target[\"']\s*:\s*[\"'](?P<activity>[^\"'\n]{1,120})[\"']", _I),
)
_INJECTION = re.compile(
    r"ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|prompts?|rules)"
    r"|disregard (?:all |the )?(?:previous|prior|above) |\bshould_retry\b|\bsystem prompt\b"
    r"|you are (?:now )?an? (?:ai|assistant|language model)|\bnew instructions\b",
    _I,
)
_SENTENCE_STOPS = (".", "!", "?", "\n")
_WHITESPACE = re.compile(r"\s+")
_ESCAPE_MAP = {"\\r\\n": "\n", "\\n": "\n", "\\t": " ", '\\"': '"', "\\'": "'", "\\\\": "\\"}
_ESCAPES = re.compile("|".join(re.escape(k) for k in _ESCAPE_MAP))
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

    @property
    def placeholders(self) -> set[str]:
        templates = (self.summary, self.root_cause, *self.actions)
        return {name for t in templates for _, name, _, _ in string.Formatter().parse(t) if name}


@dataclass(frozen=True)
class Match:
    rule: Rule
    score: float
    groups: Mapping[str, str]
    by_text: bool
    by_code: bool


@dataclass(frozen=True)
class KnowledgeBase:
    rules: tuple[Rule, ...]
    fallback: Mapping[str, Any]
    # derived: per rule the union of its patterns' literals (None: some pattern has none and is always tried), and
    # every literal indexed by its first characters, so a message is scanned for literals once
    rule_literals: tuple[frozenset[str] | None, ...] = field(init=False, repr=False)
    literals_by_prefix: Mapping[str, tuple[str, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        per_rule = tuple(
            None
            if any(literals is None for _, literals in rule.patterns)
            else frozenset().union(*(literals for _, literals in rule.patterns))
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
    return KnowledgeBase(tuple(rules), fallback)


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
        found = _required(list(_sre_p.parse(pattern, re.IGNORECASE)))
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
            sub = set().union(*alternatives) if alternatives and all(alternatives) else None
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


# ------------------------------------------------------------------------------------------------------ classifying
class _Defaulting(dict):
    """format_map mapping: a placeholder missing from the values falls back to the rule's, then generic, defaults."""

    def __init__(self, values: Mapping[str, str], defaults: Mapping[str, str]):
        super().__init__(values)
        self.defaults = defaults

    def __missing__(self, key: str) -> str:
        return self.defaults.get(key, GENERIC_PLACEHOLDERS.get(key, "unknown"))


class OfflineClassifier:
    """Classifies one pipeline error message with the rules of a knowledge base."""

    def __init__(self, knowledge: KnowledgeBase | None = None):
        self.knowledge = knowledge or load_knowledge()
        self._code_rules: dict[str, frozenset[int]] = {}  # error code -> indexes of the rules whose codes match it

    def analyze(
        self,
        error_message: str,
        *,
        error_code: str = "",
        source_system: str = "",
        failed_step: str = "",
        pipeline: str = "",
    ) -> AnalysisResult:
        text, injected = _neutralise(_clip(error_message or ""))
        context = _context(text, error_code, source_system, failed_step, pipeline)
        matches = self._matches(text, error_code, source_system, injected)
        if not matches:
            return self._fallback(text, context, injected)

        best = matches[0]
        rule = best.rule
        values = _Defaulting({**context, **best.groups}, rule.defaults)
        confidence = rule.confidence + (5 if best.by_text and best.by_code else 0)
        root_cause = rule.root_cause.format_map(values)
        rival = next((m for m in matches[1:] if m.rule.category != rule.category), None)
        if rival and best.score - rival.score < AMBIGUITY_MARGIN:
            confidence -= AMBIGUITY_PENALTY
            root_cause += (
                f" (Also consistent with a {rival.rule.category.label.lower()} failure: rule {rival.rule.id}.)"
            )
        if injected:
            confidence = min(confidence, INJECTION_CONFIDENCE_CAP)
        if rule.category == ErrorCategory.UNKNOWN:
            confidence = min(confidence, UNKNOWN_CONFIDENCE_CAP)
        return AnalysisResult(
            category=rule.category,
            severity=rule.severity,
            should_retry=rule.should_retry,
            retry_delay_minutes=rule.retry_delay_minutes,
            confidence=max(5, min(95, confidence)),
            summary=_limit(rule.summary.format_map(values), 500),
            root_cause=_limit(_with_context(root_cause, context, injected), 2000),
            recommended_actions=[_limit(a.format_map(values), 500) for a in rule.actions[:10]],
            manual_intervention_required=not rule.should_retry,
        )

    def explain(
        self,
        error_message: str,
        *,
        error_code: str = "",
        source_system: str = "",
        failed_step: str = "",
        pipeline: str = "",
    ) -> list[tuple[str, float]]:
        """Every matching rule id with its score, best first; the first one decides the analysis."""
        text, injected = _neutralise(_clip(error_message or ""))
        return [(m.rule.id, round(m.score, 2)) for m in self._matches(text, error_code, source_system, injected)]

    def _matches(self, text: str, error_code: str, source_system: str, injected: bool) -> list[Match]:
        coded = frozenset().union(*(self._rules_for_code(code) for code in _codes(text, error_code)))
        system = source_system.strip().lower()
        lowered = text.lower()
        present = self.knowledge.present_literals(lowered)
        length = max(len(text), 1)
        found = []
        for index, rule in enumerate(self.knowledge.rules):
            literals = self.knowledge.rule_literals[index]
            if literals is not None and literals.isdisjoint(present) and index not in coded:
                continue  # nothing this rule needs occurs in the message
            if (rule.source_systems and system and system not in rule.source_systems) or (
                injected and (rule.claim or rule.priority < WEAK_PRIORITY)
            ):
                continue
            hit = None
            for pattern, required in rule.patterns:
                if (required is None or not required.isdisjoint(present)) and (hit := pattern.search(text)):
                    break
            by_code = index in coded
            if not hit and not by_code:
                continue
            score = rule.priority + (CODE_BONUS if hit and by_code else 0.0)
            groups: dict[str, str] = {}
            if hit:
                score += 0.5 * hit.start() / length  # tie-break: the later (inner) cause wins
                for name, value in hit.groupdict().items():  # "host2" fills {host}: re forbids duplicate names
                    if value is not None:
                        groups.setdefault(name.rstrip("0123456789"), _clean(value) or "(empty)")
            found.append(Match(rule, score, groups, bool(hit), by_code))
        found.sort(key=lambda m: m.score, reverse=True)
        return found

    def _rules_for_code(self, code: str) -> frozenset[int]:
        cached = self._code_rules.get(code)
        if cached is None:
            if len(self._code_rules) > 10_000:
                self._code_rules.clear()
            rules = self.knowledge.rules
            cached = frozenset(i for i, rule in enumerate(rules) if any(c.fullmatch(code) for c in rule.codes))
            self._code_rules[code] = cached
        return cached

    def _fallback(self, text: str, context: dict[str, str], injected: bool) -> AnalysisResult:
        fallback = self.knowledge.fallback
        first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
        values = _Defaulting({**context, "first_line": _clean(first_line)} if first_line else context, {})
        return AnalysisResult(
            category=ErrorCategory.UNKNOWN,
            severity=Severity(fallback.get("severity", Severity.MEDIUM)),
            should_retry=False,
            retry_delay_minutes=0,
            confidence=int(fallback["confidence"]),
            summary=_limit(fallback["summary"].format_map(values), 500),
            root_cause=_limit(_with_context(fallback["root_cause"].format_map(values), context, injected), 2000),
            recommended_actions=[_limit(a.format_map(values), 500) for a in fallback["actions"][:10]],
            manual_intervention_required=True,
        )


def _context(text: str, error_code: str, source_system: str, failed_step: str, pipeline: str) -> dict[str, str]:
    """Template values known before any rule matched: the call's arguments and what the message says about itself."""
    context = {}
    if code := error_code.strip() or next(iter(_codes(text, "")), ""):
        context["code"] = context["what"] = _clean(code)  # a rule's own {what} capture takes precedence
    if activity := failed_step.strip() or next(
        (m["activity"] for p in _ACTIVITY_EXTRACTORS if (m := p.search(text))), ""
    ):
        context["activity"] = _clean(activity)
        context["in_activity"] = f" in {context['activity']}"
    if system := {"adf": "Azure Data Factory", "databricks": "Databricks"}.get(source_system.strip().lower()):
        context["source_system"] = system
    if failed_step.strip():
        context["failed_step"] = _clean(failed_step)
    if pipeline.strip():
        context["pipeline"] = _clean(pipeline)
    return context


def _codes(text: str, error_code: str) -> list[str]:
    """Error codes: the given one first, then those embedded in the message, without duplicates."""
    found = [error_code.strip()] if error_code and error_code.strip() else []
    for pattern, prefix in _CODE_EXTRACTORS:
        found.extend(prefix + m.group(1) for m in pattern.finditer(text))
    return list(dict.fromkeys(found))


def _clip(text: str) -> str:
    """The part of a message that is examined, with the HTML entities and JSON string escapes that ADF leaves in
    nested messages (&apos;, \\", literal \\r\\n) turned back into plain characters."""
    text = text if len(text) <= MAX_TEXT else text[: MAX_TEXT // 2] + "\n...\n" + text[-MAX_TEXT // 2 :]
    if "&" in text:
        text = html.unescape(text)
    if "\\" in text:
        text = _ESCAPES.sub(lambda m: _ESCAPE_MAP[m.group(0)], text)
    return text


def _neutralise(text: str) -> tuple[str, bool]:
    """Blank every sentence that holds instruction-like text (same length, so offsets stay valid); report if any."""
    spans = [m.span() for m in _INJECTION.finditer(text)]
    for start, end in spans:
        begin = max(text.rfind(stop, 0, start) for stop in _SENTENCE_STOPS) + 1
        finish = min((i for i in (text.find(stop, end) for stop in _SENTENCE_STOPS) if i >= 0), default=len(text))
        text = text[:begin] + " " * (finish - begin) + text[finish:]
    return text, bool(spans)


def _clean(value: str) -> str:
    value = _WHITESPACE.sub(" ", value).strip().rstrip(",;:").strip()
    return value if len(value) <= MAX_VALUE else value[: MAX_VALUE - 1] + "…"


def _limit(text: str, size: int) -> str:
    text = text.strip() or "-"
    return text if len(text) <= size else text[: size - 1] + "…"


def _with_context(root_cause: str, context: Mapping[str, str], injected: bool) -> str:
    where = [
        f"{label} '{context[key]}'"
        for key, label in (("pipeline", "pipeline"), ("failed_step", "step"))
        if key in context
    ]
    prefix = f"In {' / '.join(where)}: " if where else ""
    note = (
        " Note: the message contains instruction-like text; it was treated as data only and weak evidence was ignored."
    )
    return prefix + root_cause + (note if injected else "")


@functools.cache
def offline_classifier() -> OfflineClassifier:
    """The process-wide classifier: the knowledge base is read and validated once."""
    return OfflineClassifier()
