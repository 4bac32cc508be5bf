"""Error signatures: the same cause gives the same signature whatever run, time, path or object it happened to.

Terminal escapes are stripped first. The text is then normalised by replacing what varies between occurrences
(GUIDs, run and job ids, timestamps, numbers, paths and URLs, quoted object names, IPs, hex ids) with placeholders,
while what names the cause (error codes, exception classes, Spark error classes, SQLSTATEs, HTTP statuses) is kept.
The signature is the SHA-256 of the normalised text, prefixed by the platform's error code when it gave one.
"""

import hashlib
import re
from dataclasses import dataclass

from aimsweb.terminal import strip_terminal_escapes

MAX_SIGNATURE_TEXT = 1000
PRIVATE_USE = 0xE000

# Kept verbatim: they name the cause. Protected before anything is replaced, restored afterwards.
KEEP = [
    re.compile(r"\[[A-Z][A-Z0-9_]{2,}(?:\.[A-Z0-9_]+)*\]"),  # Spark error classes: [TABLE_OR_VIEW_NOT_FOUND]
    re.compile(r"\bDF-[A-Za-z]+(?:-[A-Za-z0-9]+)+"),  # ADF data flow codes: DF-Executor-OutOfMemoryError
    re.compile(
        r"(?i)\b(?:error[ _]?code|error number|sqlstate|status[ _]?code|http(?: status)?)\b"
        r"[\"'\s:=]*[\"']?[A-Za-z0-9_.-]+"
    ),  # ErrorCode=2200, "errorCode": "3204", SQLSTATE: 42P01
    re.compile(r"\b(?:[a-z_][a-z0-9_]*\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\b"),  # java.io.IOException
    re.compile(r"\b[A-Z][A-Za-z0-9_]*(?:Exception|Error|Failure|Timeout)\b"),  # OutOfMemoryError, KeyError
    re.compile(
        r"\b[45]\d\d (?:Bad Request|Unauthorized|Forbidden|Not Found|Conflict|Too Many Requests|"
        r"Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)\b"
    ),
]

# Replaced, in this order (earlier patterns would otherwise be cut up by later ones).
VARYING = [
    (re.compile(r"Operation on target .{1,260}? failed:"), "Operation on target <activity> failed:"),
    (re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s\"'<>,;)]+"), "<url>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"), "<guid>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b"), "<date>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.$@%+=~-]+){2,}[\\/]?"), "<path>"),
    # Quoted single tokens are object names (tables, columns, files, users); quoted phrases are message text and
    # stay, and so do JSON keys (constant, and they say what the value is).
    (re.compile(r"`[^`\s]{1,200}`(?:\.`[^`\s]{1,200}`)*"), "<name>"),
    (re.compile("'[^'\\s:,{}\\[\\]\ue000-\uf8ff]{1,200}'(?!\\s*:)"), "<name>"),
    (re.compile('"[^"\\s:,{}\\[\\]\ue000-\uf8ff]{1,200}"(?!\\s*:)'), "<name>"),
    (re.compile(r"\b[0-9a-fA-F]{12,}\b"), "<hex>"),
    (re.compile(r"\b[A-Za-z]*\d[A-Za-z0-9]*-[A-Za-z0-9-]*\d[A-Za-z0-9-]*\b"), "<id>"),  # 0314-020001-k3x9abcd
    (re.compile(r"\b\d+(?:\.\d+)?\b"), "<n>"),
]


@dataclass(frozen=True)
class Signature:
    text: str
    hash: str


def signature_of(error_message: str, *, error_code: str = "") -> Signature:
    """The normalised error and its hash; equal for failures with the same cause."""
    kept: list[str] = []

    def protect(match: re.Match) -> str:
        # A private-use character per kept piece: nothing below can match it, digits included.
        kept.append(match.group(0))
        return chr(PRIVATE_USE + len(kept) - 1)

    # Colour codes and control characters are how a terminal showed the error, not part of it.
    text = strip_terminal_escapes(error_message or "")
    for pattern in KEEP:
        text = pattern.sub(protect, text)
    for pattern, placeholder in VARYING:
        text = pattern.sub(placeholder, text)
    text = re.sub(
        f"[{chr(PRIVATE_USE)}-{chr(PRIVATE_USE + 6000)}]", lambda m: kept[ord(m.group(0)) - PRIVATE_USE], text
    )
    # Runs of placeholders and whitespace collapse, so "3 of 5 tasks" and "12 of 40 tasks" agree.
    text = re.sub(r"(<n>)(?:[\s,]*<n>)+", r"\1", text)
    text = " ".join(text.split())[:MAX_SIGNATURE_TEXT]
    code = (error_code or "").strip()
    digest = hashlib.sha256(f"{code}|{text}".encode()).hexdigest()
    return Signature(text=f"[{code}] {text}" if code else text, hash=digest)
