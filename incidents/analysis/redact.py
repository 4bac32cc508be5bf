"""Secrets out of error text, before it is sent to an LLM, stored in an analysis or logged.

Error messages quote connection strings, URLs with SAS signatures, HTTP headers and JSON configs; each pattern
below keeps what helps a reader (the key name, the host) and replaces the secret itself.
"""

import re

MASK = "[REDACTED]"

PATTERNS: list[tuple[re.Pattern, str]] = [
    # user:password@host in URLs and JDBC strings
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@"), rf"\1{MASK}@"),
    # Authorization headers
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/]{8,}=*"), rf"\1 {MASK}"),
    # JSON web tokens anywhere
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), MASK),
    # Databricks personal access tokens, OpenAI-style keys, GitHub tokens, AWS access key ids
    (re.compile(r"\bdapi[0-9a-zA-Z]{16,}(?:-\d+)?\b"), f"dapi{MASK}"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}\b"), f"sk-{MASK}"),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}\b"), MASK),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), MASK),
    # "password": "...", 'client_secret': '...' in JSON and Python reprs
    (
        re.compile(
            r"(?i)([\"'](?:password|pwd|passwd|secret|client_?secret|token|access_?token|refresh_?token|api_?key|"
            r"account_?key|shared_?access_?key|sas_?token|connection_?string)[\"']\s*:\s*)([\"'])(?:(?!\2).)*\2"
        ),
        rf"\1\2{MASK}\2",
    ),
    # key=value in connection strings, query strings and command lines (Password=...; AccountKey=...; sig=...)
    (
        re.compile(
            r"(?i)\b(password|pwd|passwd|accountkey|sharedaccesskey|sharedaccesssignature|client_?secret|"
            r"secret|api_?key|access_?key|access_?token|sas_?token|token|sig)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^;&\s,\"')]+)"
        ),
        rf"\1\2{MASK}",
    ),
    # Bare Azure storage account keys (88 base64 characters ending in ==)
    (re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])"), MASK),
]


def redact(text: str) -> str:
    """The text with every secret it quotes replaced by [REDACTED]."""
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text
