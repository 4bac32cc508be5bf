"""The incident timeline in words: each entry is stored as a kind plus parameters (ids, numbers, names) and a
person's note, and put into words here when it is read (pages, the admin, later the API). A kind's parameters are
listed by the function that words it; an entry converted from the free text of older versions carries it in
`legacy_text`, shown as it was."""

import secrets
from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from aimsweb.choices import ErrorCategory
from aimsweb.durations import duration_text
from monitors.models import Connection, RerunMode
from remediation.services.attempts import Escalation
from remediation.services.policies import Skip

RERUN_WORDS: dict[tuple[str, str], str] = {
    (Connection.Kind.ADF, RerunMode.RECOVER): "ADF recovery run from the failed activity",
    (Connection.Kind.ADF, RerunMode.FULL): "ADF rerun of the whole pipeline",
    (Connection.Kind.DATABRICKS, RerunMode.RECOVER): "Databricks repair of the failed tasks",
    (Connection.Kind.DATABRICKS, RerunMode.FULL): "new Databricks run of the job",
}

Params = dict[str, Any]


# What a setting cited in an entry links to: (kind, name, id or None) -> a URL, or '' for none. Kinds: "policy",
# "channel", "route", "maintenance". Set only while `event_html` words an entry; plain text otherwise.
Citer = Callable[[str, str, Any], str]
_CITER: ContextVar[Citer | None] = ContextVar("timeline_citer", default=None)


def _cite(kind: str, name: str, ident: Any = None) -> str:
    """A setting's name in an entry's words: as is, or (in `event_html`) a placeholder that becomes its link."""
    citer = _CITER.get()
    return citer(kind, name, ident) if citer is not None else name


def event_html(*, kind: str, params: Params, note: str, at: datetime, link: Citer) -> SafeString:
    """The entry's words as HTML: every character escaped, and each setting it cites (a retry policy, a channel, a
    maintenance window) a link where `link` gives a URL. The names are put in as placeholders no text can forge (a
    fresh random marker per entry) and replaced after escaping."""
    marker = secrets.token_hex(8)
    links: dict[str, SafeString] = {}

    def placeholder(cited: str, name: str, ident: Any) -> str:
        url = link(cited, name, ident)
        if not url:
            return name
        token = f"\ue000{marker}{len(links)}\ue001"
        links[token] = format_html('<a href="{}" data-cites="{}">{}</a>', url, cited, name)
        return token

    reset = _CITER.set(placeholder)
    try:
        text = event_text(kind=kind, params=params, note=note, at=at)
    finally:
        _CITER.reset(reset)
    html = str(escape(text))
    for token, anchor in links.items():
        html = html.replace(token, anchor)
    return mark_safe(html)


def rerun_words(platform: str, mode: str) -> str:
    return RERUN_WORDS.get((platform, mode), "rerun")


def event_text(*, kind: str, params: Params, note: str, at: datetime) -> str:
    """One timeline entry in words: what happened, with the person's note where there is one."""
    if params.get("legacy_text"):
        return params["legacy_text"]
    words = WORDS.get(kind)
    return words(params, note, at) if words is not None else note


def event_sentence(*, kind: str, params: Params, at: datetime) -> str:
    """One timeline entry in words without the person's note (pages show the note apart, rendered as markdown)."""
    if params.get("legacy_text"):
        return params["legacy_text"]
    words = WORDS.get(kind)
    return words(params, "", at) if words is not None else ""


def _with_note(sentence: str, note: str) -> str:
    return f"{sentence}: {note}" if note else f"{sentence}."


def _local(value: str | None, *, zone: bool = True) -> str:
    moment = parse_datetime(value) if value else None
    if moment is None:
        return "a time not recorded"
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}" if zone else f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"


def _attempt_of(params: Params, *, by_hand: str = "") -> str:
    """'Retry 2 of 3' for a policy's attempt, 'Retry 1' plus `by_hand` for one asked for by a person."""
    of = f" of {params['max_attempts']}" if params.get("max_attempts") else by_hand
    return f"Retry {params.get('attempt_number', '?')}{of}"


def skip_words(reason: str, params: Params) -> str:
    """Why a failure is not rerun or an attempt was cancelled (remediation's Skip reasons)."""
    if reason == Skip.MAINTENANCE:
        return f"maintenance window “{_cite('maintenance', params['window'], params.get('window_id'))}” is active."
    if reason == Skip.NO_POLICY:
        category = ErrorCategory(params["category"]).label.lower() if params["category"] in ErrorCategory else "these"
        return f"no retry policy covers {category} failures here."
    if reason == Skip.ADVISED_AGAINST:
        policy = _cite("policy", params["policy"], params.get("policy_id"))
        return f"policy “{policy}” would allow it, but the analysis advises against a retry."
    if reason == Skip.LOW_CONFIDENCE:
        policy = _cite("policy", params["policy"], params.get("policy_id"))
        required = params["required"]
        return f"the analysis is {params['confidence']}% confident, below the {required}% policy “{policy}” requires."
    if reason == Skip.POLICY_GONE:
        return "the retry policy that scheduled it no longer applies."
    if reason == Skip.CANCELLED_BY_HAND:
        return f"cancelled by {params.get('user') or 'a person'}."
    return "the incident was resolved meanwhile."


def escalation_words(reason: str, params: Params) -> str:
    """Why no further attempt follows a failed one (remediation's Escalation reasons)."""
    if reason == Escalation.EXHAUSTED:
        return f"all {params['max_attempts']} retries failed"
    return "the retry policy no longer applies"


# --- Words per kind: each takes (params, note, at) -------------------------------------------------------------------


def _opened(params: Params, note: str, at: datetime) -> str:
    """subject (label), category."""
    category = params.get("category", "")
    category = ErrorCategory(category).label.lower() if category in ErrorCategory else "unknown"
    return f"Opened by {params.get('subject_label', 'a failure')}: {category} error."


def _occurred(params: Params, note: str, at: datetime) -> str:
    """subject_label, count (the incident's occurrence count then)."""
    return f"Failed again: {params.get('subject_label', 'a failure')} (occurrence {params.get('count', '?')})."


def _reopened(params: Params, note: str, at: datetime) -> str:
    """subject_label and resolved_at (a new occurrence reopened it), or nothing (a person reopened it)."""
    if not params.get("subject_label"):
        return _with_note("Reopened by hand", note)
    resolved_at = parse_datetime(params["resolved_at"]) if params.get("resolved_at") else None
    after = duration_text(at - resolved_at) if resolved_at else "a while"
    return f"Reopened by {params['subject_label']}, {after} after it was resolved."


def _auto_resolved(params: Params, note: str, at: datetime) -> str:
    """attempt_number, max_attempts (a retry recovered it), or subject_label (a later success was seen)."""
    if params.get("attempt_number"):
        return f"Recovered by {_attempt_of(params, by_hand=' (by hand)').lower()}."
    return f"Resolved automatically: {params.get('subject_label', 'a later run')} succeeded."


def _silenced(params: Params, note: str, at: datetime) -> str:
    """until; the note is the reason."""
    return _with_note(f"Silenced until {_local(params.get('until'))}", note)


def _assigned(params: Params, note: str, at: datetime) -> str:
    """assignee (a username, or null for nobody)."""
    return f"Assigned to {params['assignee']}." if params.get("assignee") else "Unassigned."


def _ticket_linked(params: Params, note: str, at: datetime) -> str:
    """system, key, url."""
    return f"Linked {params.get('system', '')} {params.get('key', '')}."


def _updated(params: Params, note: str, at: datetime) -> str:
    """changes: {field: [before, after]} for the title, severity or assignee set by a person or an API key."""
    changes = params.get("changes") or {}
    parts = [f"{field} from {before!s} to {after!s}" for field, (before, after) in sorted(changes.items())]
    return _with_note("Changed " + "; ".join(parts) if parts else "Updated", note)


def _merged(params: Params, note: str, at: datetime) -> str:
    """into (the incident this one was merged into) or sources (the incidents merged into this one)."""
    if params.get("into"):
        return _with_note(f"Merged into incident #{params['into']}", note)
    sources = ", ".join(f"#{pk}" for pk in params.get("sources", []))
    return _with_note(f"Incidents {sources} merged into this one", note)


def _pipeline_joined(params: Params, note: str, at: datetime) -> str:
    """pipeline, subject_label (its failure), affected (pipelines in the incident then)."""
    return (
        f"{params.get('pipeline', 'A pipeline')} failed the same way ({params.get('subject_label', 'a failure')}): "
        f"{params.get('affected', '?')} pipelines affected."
    )


def _part_recovered(params: Params, note: str, at: datetime) -> str:
    """pipeline, subject_label (what succeeded), failing and affected (pipelines still failing, of all)."""
    return (
        f"{params.get('pipeline', 'A pipeline')} recovered: {params.get('subject_label', 'a later run')} succeeded; "
        f"{params.get('failing', '?')} of {params.get('affected', '?')} pipelines still failing."
    )


def _split(params: Params, note: str, at: datetime) -> str:
    """pipeline, and into (the incident its part moved to) or out_of (the incident it came from)."""
    pipeline = params.get("pipeline", "a pipeline")
    if params.get("into"):
        return _with_note(f"Split {pipeline} out into incident #{params['into']}", note)
    return _with_note(f"Split out of incident #{params.get('out_of', '?')}: the failures of {pipeline}", note)


def _ticket_opened(params: Params, note: str, at: datetime) -> str:
    """system, key, url, route (the ticket route's name)."""
    return f"Opened {params.get('system', '')} {params.get('key', '')} (route {params.get('route', '')})."


def _ticket_changed(params: Params, note: str, at: datetime) -> str:
    """system, key, status (the ticket's new status) and what AIMS did about it, `action` (or none)."""
    sentence = f"{params.get('system', '')} {params.get('key', '')} is now {params.get('status', '')}"
    if params.get("action"):
        sentence += f"; {params['action']}"
    return _with_note(sentence, note)


def _ticket_sync_failed(params: Params, note: str, at: datetime) -> str:
    """system, key (blank before the ticket exists), error, attempts."""
    target = f"{params.get('system', '')} {params.get('key', '')}".strip()
    return f"Could not sync {target} after {params.get('attempts', '?')} attempt(s): {params.get('error', '')}"


def _retry_scheduled(params: Params, note: str, at: datetime) -> str:
    """attempt_number, max_attempts (null unless a policy's), policy (name or null), delay_seconds, platform,
    mode."""
    delay = timedelta(seconds=params.get("delay_seconds") or 0)
    when = "now" if delay < timedelta(seconds=1) else f"in {duration_text(delay)}"
    by = f"policy “{_cite('policy', params['policy'], params.get('policy_id'))}”" if params.get("policy") else "request"
    rerun = rerun_words(params.get("platform", ""), params.get("mode", ""))
    return f"{_attempt_of(params)} scheduled {when} ({by}): {rerun}."


def _retry_started(params: Params, note: str, at: datetime) -> str:
    """attempt_number, adopted, platform, mode, failed_step, rerun_id."""
    how = "adopted (a stopped worker had started it)" if params.get("adopted") else "started"
    step = f" (from {params['failed_step']})" if params.get("failed_step") else ""
    rerun = rerun_words(params.get("platform", ""), params.get("mode", ""))
    return f"Retry {params.get('attempt_number', '?')} {how}: {rerun}{step}, {params.get('rerun_id', '')}."


def _retry_succeeded(params: Params, note: str, at: datetime) -> str:
    """attempt_number, max_attempts, rerun_id."""
    return f"{_attempt_of(params, by_hand=' (by hand)')} succeeded ({params.get('rerun_id', '')})."


def _retry_failed(params: Params, note: str, at: datetime) -> str:
    """attempt_number, max_attempts, not_started (it could not be started), error."""
    words = "could not be started" if params.get("not_started") else "failed"
    error = params.get("error")
    return f"{_attempt_of(params, by_hand=' (by hand)')} {words}" + (f": {error}" if error else ".")


def _retry_skipped(params: Params, note: str, at: datetime) -> str:
    """reason, reason_params, and attempt_number when a scheduled attempt was cancelled."""
    why = skip_words(params.get("reason", ""), params.get("reason_params") or {})
    if params.get("attempt_number"):
        return f"Retry {params['attempt_number']} cancelled: {why}"
    return f"Not retried: {why}"


def _escalated(params: Params, note: str, at: datetime) -> str:
    """reason and max_attempts (the retries ran out), or after_minutes, channels (channel_ids) and route (route_id)
    of the escalation step (nobody acknowledged), with schedule and on_call (the person on call then, '' for nobody)
    when the step targets a schedule's on-call."""
    if "after_minutes" in params:
        ids = params.get("channel_ids") or []
        names = ", ".join(
            _cite("channel", name, ids[n] if n < len(ids) else None)
            for n, name in enumerate(params.get("channels") or [])
        )
        route = f" (route “{_cite('route', params['route'], params.get('route_id'))}”)" if params.get("route") else ""
        sentence = f"Not acknowledged {params['after_minutes']} min after the page: notified {names}{route}"
        if params.get("schedule"):
            who = params.get("on_call")
            on_call = (
                f"{who}, on call in {params['schedule']}"
                if who
                else f"nobody: nobody is on call in {params['schedule']}"
            )
            return f"{sentence}; and {on_call}."
        return f"{sentence}."
    return f"Escalated: {escalation_words(params.get('reason', ''), params)}; a person needs to look at it."


def _suppressed(params: Params, note: str, at: datetime) -> str:
    """reason: 'retrying', 'silenced' (until) or 'maintenance' (window, until); event."""
    reason = params.get("reason")
    if reason == "retrying":
        return "Page deferred: a retry is under way; it pages if it fails."
    if reason == "maintenance":
        window = _cite("maintenance", params.get("window", ""), params.get("window_id"))
        why = f"maintenance window “{window}” until {_local(params.get('until'), zone=False)}"
    else:
        why = f"the incident is silenced until {_local(params.get('until'), zone=False)}"
    return f"Nobody notified ({params.get('event', '')}): {why}."


def _notified(params: Params, note: str, at: datetime) -> str:
    """channel (its name, channel_id), event (its label), to (the on-call person reached through it, if any)."""
    channel = _cite("channel", params.get("channel", ""), params.get("channel_id"))
    if params.get("to"):
        return f"Notified {params['to']} (on call) through {channel} ({params.get('event', '')})."
    return f"Notified {channel} ({params.get('event', '')})."


def _notify_failed(params: Params, note: str, at: datetime) -> str:
    """channel, attempts, error."""
    attempts = params.get("attempts", "?")
    channel = _cite("channel", params.get("channel", ""), params.get("channel_id"))
    return f"Could not notify {channel} after {attempts} attempt(s): {params.get('error', '')}"


def _constant(sentence: str) -> Callable[[Params, str, datetime], str]:
    return lambda params, note, at: sentence


WORDS: dict[str, Callable[[Params, str, datetime], str]] = {
    "opened": _opened,
    "occurred": _occurred,
    "reopened": _reopened,
    "acknowledged": _constant("Acknowledged."),
    "resolved": lambda params, note, at: _with_note("Resolved", note),
    "auto_resolved": _auto_resolved,
    "silenced": _silenced,
    "unsilenced": _constant("Silence ended."),
    "assigned": _assigned,
    "commented": lambda params, note, at: note,
    "ticket_linked": _ticket_linked,
    "ticket_unlinked": lambda params, note, at: f"Unlinked {params.get('system', '')} {params.get('key', '')}.",
    "ticket_opened": _ticket_opened,
    "ticket_changed": _ticket_changed,
    "ticket_sync_failed": _ticket_sync_failed,
    "updated": _updated,
    "merged": _merged,
    "pipeline_joined": _pipeline_joined,
    "part_recovered": _part_recovered,
    "split": _split,
    "retry_scheduled": _retry_scheduled,
    "retry_started": _retry_started,
    "retry_succeeded": _retry_succeeded,
    "retry_failed": _retry_failed,
    "retry_skipped": _retry_skipped,
    "notified": _notified,
    "notify_failed": _notify_failed,
    "escalated": _escalated,
    "suppressed": _suppressed,
}
