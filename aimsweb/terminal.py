"""Terminal escape codes out of platform text, before it is stored, signed, classified or shown.

Notebook and driver output (Databricks traces above all) carries ECMA-48 control sequences: colours
(`ESC[0;31m`), cursor moves, window titles and hyperlinks (OSC), and stray control characters. They are noise to a
reader, change an error's signature, and hide the exception from a classifier. (click's strip_ansi covers CSI
only and is a dev dependency, so this stays here.)
"""

import re
from typing import Any

# One pass, longest forms first: ESC may introduce each of them, and a stray ESC is caught by the last branch.
_ESCAPES = re.compile(
    # Control strings (OSC, DCS, SOS, PM, APC), 7- or 8-bit, ended by BEL or ST: titles, OSC 8 hyperlinks. The body
    # stops at any introducer, so text full of unended ones is still one linear pass
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x90\x98\x9c-\x9f]*(?:\x07|\x1b\\|\x9c)"
    # CSI: parameters, intermediates, a final byte (or the text's end, when the sequence was cut off)
    r"|(?:\x1b\[|\x9b)[0-?]*[ -/]*(?:[@-~]|$)"
    # Other escape sequences: intermediates and a final byte (charset selection, keypad modes, RIS, ...)
    r"|\x1b[ -/]*[0-~]"
    # Stray C0 controls (but tab and newline; carriage returns are line ends by then), DEL and C1 controls
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def strip_terminal_escapes(text: str) -> str:
    """The text without terminal escape sequences and control characters; tabs and line ends stay (CRLF and a lone
    CR, as progress output rewrites its line, read as LF)."""
    if not text:
        return text
    return _ESCAPES.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def strip_terminal_escapes_values(value: Any) -> Any:
    """`value` with every text in it stripped: a string, or the strings in lists and dicts (JSON fields)."""
    if isinstance(value, str):
        return strip_terminal_escapes(value)
    if isinstance(value, list):
        return [strip_terminal_escapes_values(item) for item in value]
    if isinstance(value, dict):
        return {key: strip_terminal_escapes_values(item) for key, item in value.items()}
    return value
