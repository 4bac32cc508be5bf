"""Innermost cause first: rank the rule matches of a message's layers together with the taxonomies' verdicts.

* Rules are matched on the whole message (so wrapper codes remain evidence) and on its innermost cause (see
  ``envelopes.unwrap``); a rule whose evidence lies in the innermost cause gains ``INNER_BONUS``, so the cause outranks
  what its wrappers say about it.
* Where no specific rule decides, the platforms' taxonomies do (``taxonomy``): each decisive signal becomes a match of
  a synthetic rule whose priority is its layer's, so a documented rule still beats a bare SQLSTATE class.
* Retry caution: a transient verdict that rests only on a wrapper ("please retry", a SystemError failure type) gives
  way to any non-transient cause recognised inside it, because a needless rerun costs money and hides the cause. So
  does a generic transient signal ("Communication link failure", "Connection reset", an HTTP 5xx family) next to
  explicit non-transient evidence in the innermost cause (a 403, "permission denied", "does not exist"): drivers report
  a refused login as a failed connection. Only decisive transient evidence (``DECISIVE_TRANSIENT``: throttling,
  deadlocks, concurrent-write conflicts, documented transient codes) stands against it.
* Contested retries: a transient verdict that rests on generic evidence (below ``DECISIVE_TRANSIENT``) is not retried
  when any other class has evidence in the innermost cause, however weak (``retry_contested``): the generic cues of
  ``knowledge/cues.yaml`` rank low so that they never decide against a specific rule, but they still say "this may not
  be transient".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.envelopes import Envelope
from incidents.analysis.knowledge_base import Match, Rule
from incidents.analysis.taxonomy import LAYER_LABEL, Verdict, taxonomy

INNER_BONUS = 12.0
WEAK_PRIORITY = 40
DECISIVE_TRANSIENT = 62  # transient rules from here up name a documented transient condition, not a symptom
CUE_PRIORITY = 30  # the lowest priority of a generic cue (knowledge/cues.yaml); weaker matches contest no retry
# Base confidence of a taxonomy verdict per layer: a documented code says more than an exception class or HTTP family.
LAYER_CONFIDENCE: Mapping[str, int] = {
    "termination_code": 76,
    "sqlstate": 74,
    "sqlserver": 74,
    "sqlstate_wrapper": 62,
    "spark_error_class": 72,
    "adf_code": 72,
    "adf_activity_code": 68,
    "cloud": 70,
    "exception": 64,
    "termination_type": 58,
    "http": 62,
}
_ACTIONS: Mapping[ErrorCategory, tuple[str, ...]] = {
    ErrorCategory.TRANSIENT: (
        "Let the retry policy rerun{in_activity}; the platform reports a condition that clears by itself.",
        "If it recurs after retries, check the health of {source_system} and of the dependency named in the error.",
    ),
    ErrorCategory.RESOURCE: (
        "Give {activity} more of the exhausted resource (memory, disk, quota, capacity) or reduce the work per run.",
        "Re-run once the limit is raised; an identical rerun fails the same way.",
    ),
    ErrorCategory.CONFIGURATION: (
        "Check what {activity} points at (object, path, host, setting) named in the error and correct it.",
        "Re-run manually after the fix.",
    ),
    ErrorCategory.PERMISSION: (
        "Grant the identity used by {activity} the access named in the error, or renew its credential.",
        "Re-run manually once access is in place.",
    ),
    ErrorCategory.DATA_QUALITY: (
        "Find the offending rows or file in the input of {activity} and fix or quarantine them.",
        "Re-run manually once the data is corrected.",
    ),
    ErrorCategory.CODE: (
        "Fix the query or code of {activity} at the place named in the error.",
        "Deploy the fix and re-run manually.",
    ),
}


def rank(
    whole: list[Match],
    inside: list[Match] | None,
    envelope: Envelope,
    inner_text: str,
    whole_text: str,
    codes: Iterable[str],
    categories: Mapping[str, Mapping[str, Any]],
) -> list[Match]:
    """Rule matches of the whole message and of its innermost cause (None: not wrapped) plus taxonomy verdicts, best
    first, with a transient verdict that rests only on a wrapper moved behind any non-transient inner cause."""
    inner_ids = {m.rule.id for m in (whole if inside is None else inside)}
    merged = [
        replace(m, score=m.score + INNER_BONUS) if m.rule.id in inner_ids else replace(m, inner=False) for m in whole
    ]
    seen = {m.rule.id for m in whole}
    merged += [replace(m, score=m.score + INNER_BONUS) for m in inside or () if m.rule.id not in seen]

    tables = taxonomy()
    inner_verdicts = tables.verdicts(inner_text)
    inner_evidence = {v.evidence for v in inner_verdicts}
    outer_verdicts = [
        v for v in tables.verdicts(whole_text, [*codes, *envelope.outer_codes]) if v.evidence not in inner_evidence
    ]
    merged += _taxonomy_matches(inner_verdicts, True, len(inner_text), categories)
    merged += _taxonomy_matches(outer_verdicts, not envelope.wrapped, len(whole_text), categories)
    merged.sort(key=lambda m: m.score, reverse=True)
    return _cautious(merged)


def _cautious(ranked: list[Match]) -> list[Match]:
    if not ranked or ranked[0].rule.category != ErrorCategory.TRANSIENT:
        return ranked
    if ranked[0].inner and ranked[0].rule.priority >= DECISIVE_TRANSIENT:
        return ranked
    cause = next(
        (
            m
            for m in ranked
            if m.inner
            and m.rule.category not in (ErrorCategory.TRANSIENT, ErrorCategory.UNKNOWN)
            and m.rule.priority >= WEAK_PRIORITY
        ),
        None,
    )
    return ranked if cause is None else [cause, *(m for m in ranked if m is not cause)]


def retry_contested(ranked: list[Match]) -> bool:
    """True when the best match is generic transient evidence and another class has evidence against it (below):
    such a verdict is reported but not retried, because a needless rerun costs money and hides the cause."""
    best = ranked[0]
    if best.rule.category != ErrorCategory.TRANSIENT or (best.inner and best.rule.priority >= DECISIVE_TRANSIENT):
        return False
    # Cue-strength evidence counts in the innermost cause; stronger evidence (a documented code of this very failure,
    # an exception class, the platform's own remedy in an outer layer) counts anywhere: ADF's "errorCode" 2510 says the
    # Batch URL is wrong even when the message reads like a network blip, and "specify a longer httpRequestTimeout"
    # says an identical rerun times out again. Codes that alone decide nothing (2200, ambiguous codes) sit below
    # WEAK_PRIORITY or map to unknown, and count not.
    return any(
        ((m.inner and m.rule.priority >= CUE_PRIORITY) or m.rule.priority >= WEAK_PRIORITY)
        and m.rule.category not in (ErrorCategory.TRANSIENT, ErrorCategory.UNKNOWN)
        for m in ranked[1:]
    )


def _taxonomy_matches(
    verdicts: list[Verdict], inner: bool, length: int, categories: Mapping[str, Mapping[str, Any]]
) -> list[Match]:
    """One match per layer and class: the latest signal of each (the inner one in a chain)."""
    best: dict[tuple[str, ErrorCategory], Verdict] = {}
    for verdict in verdicts:
        key = (verdict.layer, verdict.category)
        if key not in best or verdict.position > best[key].position:
            best[key] = verdict
    matches = []
    for verdict in best.values():
        position = max(verdict.position, 0) / max(length, 1)
        score = verdict.priority + 0.5 * position + (INNER_BONUS if inner else 0.0)
        rule = taxonomy_rule(verdict, categories)
        matches.append(Match(rule, score, {}, by_text=verdict.position >= 0, by_code=verdict.position < 0, inner=inner))
    return matches


def taxonomy_rule(verdict: Verdict, categories: Mapping[str, Mapping[str, Any]]) -> Rule:
    """A rule standing for one taxonomy verdict, rendered like any knowledge-base rule."""
    category = verdict.category
    defaults = categories.get(category, {})
    transient = category == ErrorCategory.TRANSIENT
    label = LAYER_LABEL[verdict.layer]
    evidence = _literal(verdict.evidence)
    meaning = _literal(verdict.meaning)
    return Rule(
        id=f"taxonomy_{verdict.layer}",
        file="taxonomy",
        category=category,
        severity=Severity(defaults.get("severity", Severity.MEDIUM if transient else Severity.HIGH)),
        should_retry=transient,
        retry_delay_minutes=int(defaults.get("retry_delay_minutes", 5)) if transient else 0,
        confidence=LAYER_CONFIDENCE[verdict.layer],
        priority=verdict.priority,
        source_systems=frozenset(),
        patterns=(),
        codes=(),
        summary=f"{category.label} failure{{in_activity}}: {evidence} ({meaning})",
        root_cause=(
            f"No specific rule recognised this message, but it carries the {label} {evidence}, which means "
            f"'{meaning}'; the platform's taxonomy puts that in the {category.label.lower()} class."
            + (" It is expected to succeed when retried." if transient else " Retrying alone will not fix it.")
        ),
        actions=_ACTIONS[category],
        defaults={},
    )


def _literal(text: str) -> str:
    """Text placed in a template verbatim: braces doubled so format_map leaves them alone."""
    return text.replace("{", "{{").replace("}", "}}")
