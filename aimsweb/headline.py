"""The headline of an error: one readable line a person scans in a list or a title, taken from the innermost cause.

Platforms wrap errors in envelopes (ADF activity JSON, data flow status JSON, Databricks error bodies, JVM "Caused
by:" chains, copy-activity exception chains; see ``aimsweb.envelopes``), so the first line of the raw text is often
``{`` or ``Operation on target X failed:``. The headline is the first line of the innermost layer that reads as a
sentence, else the fallback given (an analysis summary), else the first readable line of any layer: redacted, without
terminal escapes, one line, at most ``HEADLINE_MAX`` characters cut at a word, and never ending in ``{``, ``[``, ``:``
or ``,``.
"""

import json
import re
from functools import lru_cache

from aimsweb.envelopes import strip_log_prefixes, unwrap
from aimsweb.redact import redact
from aimsweb.terminal import strip_terminal_escapes

HEADLINE_MAX = 120
ELLIPSIS = "…"
# Read at most this much of an error: a headline lies near the start of a layer, and unwrap stays cheap.
READ_LIMIT = 20_000
MIN_LETTERS = 5  # fewer letters than this say nothing on their own ("null", "{}", "500")
MIN_READABLE = 8

_SPACE = re.compile(r"\s+")
# What a cut line must not end in: an opening bracket, a separator, or space before them.
_DANGLING = " \t{[(:;,=-|/\\"
_LETTERS = re.compile(r"[A-Za-z]")
# A JSON document or a fragment of one: an opening brace, an array (not a bracketed error class such as
# "[TABLE_OR_VIEW_NOT_FOUND] ..."), or a quoted key and its colon.
_JSON_LIKE = re.compile(r'^\s*(?:\{|\[\s*(?:[{\["\d\]]|$)|"[^"]*"\s*:)')
# In JSON the envelopes did not peel (a cluster state, a cut-off body): the first message-like string value.
_JSON_MESSAGE = re.compile(
    r'"(?:\w*(?:message|Message|reason|Reason|error|Error|detail|Detail)\w*)"\s*:\s*"((?:[^"\\\n]|\\.){8,})"'
)


def headline_cut(text: str, limit: int = HEADLINE_MAX) -> str:
    """`text` as one line of at most `limit` characters: whitespace collapsed, escapes and control characters gone,
    cut at a word boundary with an ellipsis when longer, never ending in an opening bracket or a separator."""
    line = _SPACE.sub(" ", strip_terminal_escapes(text)).strip()
    if len(line) > limit:
        cut = line[: limit - len(ELLIPSIS)]
        space = cut.rfind(" ")
        if space >= limit // 2:  # a word boundary not too far back; a long token is cut where it stands
            cut = cut[:space]
        line = cut.rstrip(_DANGLING) + ELLIPSIS
    return line.rstrip(_DANGLING)


def _readable(line: str) -> bool:
    return len(line) >= MIN_READABLE and len(_LETTERS.findall(line)) >= MIN_LETTERS and not _JSON_LIKE.match(line)


def _first_line(layer: str) -> str:
    for line in layer.splitlines():
        if line.strip():
            line = line.strip()
            if _JSON_LIKE.match(line) or line.startswith('"'):
                return _json_message(layer) or line
            return line
    return ""


def _json_message(layer: str) -> str:
    for match in _JSON_MESSAGE.finditer(layer):
        try:
            value = json.loads(f'"{match[1]}"')
        except ValueError:
            continue
        if _readable(line := _first_line(value)):
            return line
    return ""


# Tables render the same runs again and again; keys are at most READ_LIMIT characters, so the cache stays small.
@lru_cache(maxsize=512)
def _headline(text: str) -> str:
    cleaned = strip_log_prefixes(strip_terminal_escapes(text))
    layers = unwrap(cleaned).layers
    for layer in reversed(layers):  # innermost first
        line = _first_line(layer)
        if _readable(line):
            return line
    return ""


def headline(error: str, *, fallback: str = "", limit: int = HEADLINE_MAX) -> str:
    """One readable line (at most `limit` characters) for an error: its innermost readable cause, else `fallback`
    (an analysis summary, say), else ""; redacted."""
    line = _headline(error[:READ_LIMIT]) if error and error.strip() else ""
    if not line and fallback.strip():
        line = fallback
    return headline_cut(redact(line), limit) if line else ""


def headline_title(prefix: str, error: str, *, fallback: str = "", limit: int = HEADLINE_MAX) -> str:
    """`prefix: headline` (a pipeline's name and its error, say) in at most `limit` characters; just the headline
    when the prefix would leave it too little room, just the prefix when there is no headline."""
    prefix = headline_cut(prefix, limit)
    room = limit - len(prefix) - 2
    if prefix and room >= 40:
        line = headline(error, fallback=fallback, limit=room)
        return f"{prefix}: {line}" if line else prefix
    return headline(error, fallback=fallback, limit=limit) or prefix
