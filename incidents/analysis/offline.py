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
* Retry floor. A transient verdict retries only with confidence ``RETRY_CONFIDENCE_FLOOR`` or more, and a generic one
  only when no other class has evidence in the innermost cause (``layers.retry_contested``): a weak signal ("timeout",
  a SystemError failure type) contested by another class is reported but left to a person, because a needless rerun
  of a non-transient failure costs money and hides its cause.
* Fallback. No match gives category ``unknown``, no retry, low confidence and generic but useful actions.
* Speed. Every pattern carries the literals it cannot match without (derived from its parse tree); a pattern is only
  run when one of them occurs in the message, so most of the ~250 rules cost a set lookup.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.envelopes import strip_log_prefixes, unwrap
from aimsweb.terminal import strip_terminal_escapes
from incidents.analysis.knowledge_base import (  # noqa: F401 - re-exported: callers load knowledge through here
    CATEGORY_FILE,
    KNOWLEDGE_DIR,
    UNKNOWN_CONFIDENCE_CAP,
    KnowledgeBase,
    KnowledgeBaseError,
    Match,
    Rule,
    load_knowledge,
    required_literals,
)
from incidents.analysis.layers import rank, retry_contested
from incidents.analysis.schema import AnalysisResult

CODE_BONUS = 8.0  # text and code evidence agree
AMBIGUITY_MARGIN = 10.0  # a different category this close lowers confidence
AMBIGUITY_PENALTY = 12
WEAK_PRIORITY = 40  # rules below this are ignored when the message carries instruction-like text
INJECTION_CONFIDENCE_CAP = 60
RETRY_CONFIDENCE_FLOOR = 50  # below this a transient verdict is not retried automatically
MAX_TEXT = 20_000  # characters examined: head and tail of very long traces
MAX_VALUE = 160  # characters of a captured name shown in a template

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
_ENTITY = re.compile(r"&(?!quot;)(?:#\d{1,6}|#x[0-9a-f]{1,6}|[a-z]{2,8});", re.IGNORECASE)


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
        plain = strip_log_prefixes(strip_terminal_escapes(error_message or ""))
        text, injected = _neutralise(_clip(plain))
        context = _context(text, error_code, source_system, failed_step, pipeline)
        matches = self._ranked(plain, text, error_code, source_system, injected)
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
        should_retry = rule.should_retry and confidence >= RETRY_CONFIDENCE_FLOOR and not retry_contested(matches)
        if rule.should_retry and not should_retry:
            root_cause += " The evidence for a transient failure is weak, so it is not retried automatically."
        return AnalysisResult(
            category=rule.category,
            severity=rule.severity,
            should_retry=should_retry,
            retry_delay_minutes=rule.retry_delay_minutes if should_retry else 0,
            confidence=max(5, min(95, confidence)),
            summary=_limit(rule.summary.format_map(values), 500),
            root_cause=_limit(_with_context(root_cause, context, injected), 2000),
            recommended_actions=[_limit(a.format_map(values), 500) for a in rule.actions[:10]],
            manual_intervention_required=not should_retry,
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
        plain = strip_log_prefixes(strip_terminal_escapes(error_message or ""))
        text, injected = _neutralise(_clip(plain))
        ranked = self._ranked(plain, text, error_code, source_system, injected)
        return [(m.rule.id, round(m.score, 2)) for m in ranked]

    def _ranked(self, raw: str, text: str, error_code: str, source_system: str, injected: bool) -> list[Match]:
        """Matches of the whole message, of its innermost cause and of the taxonomies, best first (see layers.py)."""
        envelope = unwrap(_entities_unescaped(_clip_length(raw)))
        inner = _neutralise(_clip(envelope.innermost))[0] if envelope.wrapped else text
        whole = self._matches(text, error_code, source_system, injected)
        inside = self._matches(inner, "", source_system, injected) if envelope.wrapped else None
        return rank(whole, inside, envelope, inner, text, [error_code], self.knowledge.categories)

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


def _clip_length(text: str) -> str:
    """The part of a message that is examined: head and tail of a very long trace."""
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT // 2] + "\n...\n" + text[-MAX_TEXT // 2 :]


def _clip(text: str) -> str:
    """The part of a message that is examined, with the HTML entities and JSON string escapes that ADF leaves in
    nested messages (&apos;, \\", literal \\r\\n) turned back into plain characters."""
    text = _clip_length(text)
    if "&" in text:
        text = html.unescape(text)
    if "\\" in text:
        text = _ESCAPES.sub(lambda m: _ESCAPE_MAP[m.group(0)], text)
    return text


def _entities_unescaped(text: str) -> str:
    """HTML entities ADF leaves in nested messages (&apos;, &#44; even between the fields of a copy activity chain)
    turned back into characters before unwrapping; &quot; stays, as it would end a JSON string early."""
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text) if "&" in text else text


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
