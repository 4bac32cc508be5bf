"""Secrets out of error text, before it is stored, shown, sent to an LLM or a channel, or logged.

Error messages quote connection strings, URLs with SAS signatures, HTTP headers, environment dumps and JSON configs;
each pattern below keeps what helps a reader (the key name, the scheme, the host, a token's kind) and replaces the
secret itself. Patterns are compiled once and each is one linear pass; redact() is idempotent, so text redacted
twice (stored, then shown) reads the same.
"""

import logging
import re
from collections.abc import Callable

from aimsweb.stored_rows import stored_rows_rewrite

MASK = "[REDACTED]"

Replacement = str | Callable[[re.Match[str]], str]

# Words that make a key name secret wherever they stand in it: DB_PASSWORD, aws_secret_access_key, X-Api-Key,
# Ocp-Apim-Subscription-Key, fs.azure.account.key.<account>..., "client_secret", _authToken. `token` is not followed
# by "s" or "iz", so max_tokens and tokenizer are not keys.
_SECRET_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token(?!s\b|s[_\-.]|iz)|api[_\-.]?key|access[_\-.]?key|account[_\-.]?key|"
    r"shared[_\-.]?access[_\-.]?key|sharedaccesssignature|sas[_\-.]?token|private[_\-.]?key|subscription[_\-.]?key|"
    r"functions?[_\-.]?key|master[_\-.]?key|signing[_\-.]?key|encryption[_\-.]?keys?|credentials?|"
    r"connection[_\-.]?string|sessionid|csrftoken"
)
# Short names that are secret only as the whole key (sig=, pass=), or as the last part of one (STRIPE_KEY=).
_SECRET_KEYS = r"sig|pass|auth|[\w.\-]*[_\-.]keys?"
# Keys that name or describe a secret rather than hold it: SharedAccessKeyName=, token_type=, secret_name=.
_NOT_SECRET_SUFFIXES = (
    "name", "id", "type", "file", "path", "url", "uri", "endpoint", "expiry", "expires", "expires_at", "expires_in",
    "length", "count", "version", "policy", "scope", "provider", "ttl", "hint", "lifetime", "header", "format",
)  # fmt: skip

_SECRET_KEY = re.compile(rf"(?i)(?:{_SECRET_WORDS})|^(?:{_SECRET_KEYS})$")
# A key and its separator: not inside a longer name or a URL path (…/oauth2/token: 400 is not a secret), maybe after
# a URL-encoded ? or &; = or :, maybe after a closing quote (JSON, repr, escaped JSON), maybe URL-encoded.
_KEY = re.compile(
    r"(?:(?<![\w.\-/%])|(?<=%26)|(?<=%3F))([\w.\-]+)(\\?[\"']?[ \t]*+(?:=|:|%3D|%3A)[ \t]*+)", re.IGNORECASE
)
# The value: escaped-quoted, quoted, ODBC-braced ({a;b}, }} escapes a brace), or bare up to a separator.
_VALUE = re.compile(
    r"\\\"(?:(?!\\\").)*\\\"|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'|\{(?:[^}\n]|\}\})*\}"
    r"|(?:(?!%26|\\\")[^\s;&,\"'<>])+",
    re.IGNORECASE,
)


def _is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key)) and not key.lower().rstrip("_-.").endswith(_NOT_SECRET_SUFFIXES)


def _masked_value(value: str) -> str:
    if value.startswith('\\"'):
        return f'\\"{MASK}\\"'
    if value[0] in "\"'":
        return f"{value[0]}{MASK}{value[0]}"
    return f"{{{MASK}}}" if value[0] == "{" else MASK


def _key_values_redact(text: str) -> str:
    """key=value and "key": "value" (connection strings, query strings, env dumps, YAML, JSON, Python reprs): the
    value of every key that names a secret. The text after any other key is read on, so `Error: password=…` and
    `line 4: password: …` are found too."""
    parts, position = [], 0
    while key := _KEY.search(text, position):
        value = _VALUE.match(text, key.end()) if _is_secret_key(key.group(1)) else None
        if value is None or value.group(0) == MASK:
            parts.append(text[position : key.end()])
            position = key.end()
        else:
            parts.append(text[position : key.end()] + _masked_value(value.group(0)))
            position = value.end()
    parts.append(text[position:])
    return "".join(parts)


_COOKIE_ATTRIBUTES = frozenset({"path", "domain", "expires", "max-age", "samesite", "secure", "httponly", "priority"})


def _cookie(match: re.Match[str]) -> str:
    """Cookie: a=1; b=2 and Set-Cookie: a=1; Path=/: every cookie's value out, its name and attributes kept."""
    pairs = []
    for pair in match.group(2).split(";"):
        name, equals, _ = pair.partition("=")
        keep = not equals or name.strip().lower() in _COOKIE_ATTRIBUTES
        pairs.append(pair if keep else f"{name}={MASK}")
    return match.group(1) + ";".join(pairs)


def _authorization(match: re.Match[str]) -> str:
    prefix, scheme = match.group(1), match.group(2)
    return f"{prefix}{scheme} {MASK}" if scheme else f"{prefix}{MASK}"


# Provider tokens by their documented prefixes, in one pass; the named group `kind` is what stays to say which kind
# of token it was.
_PROVIDER_TOKEN = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"(?P<aws>AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}(?![0-9A-Za-z])"
    r"|(?P<dapi>dapi)[0-9a-fA-F]{32}(?:-\d+)?(?![0-9A-Za-z])"  # Databricks personal access token
    r"|(?P<dose>dose)[0-9a-zA-Z]{30,}"  # Databricks OAuth secret
    r"|(?P<openai>sk-(?:proj-|svcacct-|admin-|ant-(?:api\d\d-)?)?)[A-Za-z0-9_\-]{16,}"
    r"|(?P<stripe>(?:sk|rk)_(?:live|test)_)[0-9A-Za-z]{16,}"
    r"|(?P<whsec>whsec_)[0-9A-Za-z+/=_\-]{16,}"  # Standard Webhooks (base64) and Stripe webhook secrets
    r"|(?P<github>gh[pousr]_)[A-Za-z0-9]{30,}|(?P<github_pat>github_pat_)[A-Za-z0-9_]{30,}"
    r"|(?P<gitlab>glpat-)[A-Za-z0-9_\-]{20,}"
    r"|(?P<slack>xox[abposre]-)[A-Za-z0-9\-]{10,}|(?P<slack_app>xapp-)\d-[A-Za-z0-9\-]{20,}"
    r"|(?P<google>AIza)[0-9A-Za-z_\-]{35}|(?P<google_oauth>ya29\.)[0-9A-Za-z_\-.]{20,}"
    r"|(?P<sendgrid>SG\.)[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"
    r"|(?P<twilio>SK)[0-9a-f]{32}(?![0-9A-Za-z])"
    r"|(?P<npm>npm_)[A-Za-z0-9]{36}|(?P<pypi>pypi-)[A-Za-z0-9_\-]{50,}"
    r"|(?P<vault>hv[sbr]\.)[A-Za-z0-9_\-]{24,}"
    # Entra (Azure AD) client secrets: three characters, a digit, "Q~", then 31-34 more; JSON web tokens
    r"|[A-Za-z0-9_\-.~]{3}\dQ~[A-Za-z0-9_\-.~]{20,}"
    r"|eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}"
    r")"
)


def _provider_token(match: re.Match[str]) -> str:
    kind = match.lastgroup
    return (match.group(kind) if kind else "") + MASK


# Bare Azure storage account and Cosmos DB keys (88 base64 characters ending in ==)
_AZURE_KEY = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])")

# (pattern, replacement, a lower-case string the text must hold for the pattern to be tried at all: most error text
# quotes no header or URL, and looking for a word is far cheaper than running a pattern)
PATTERNS: list[tuple[re.Pattern[str], Replacement, str]] = [
    # PEM private keys, whole or cut off, also inside JSON ("-----BEGIN PRIVATE KEY-----\nMIIE...")
    (
        re.compile(
            r"(-----BEGIN [A-Z ]*PRIVATE KEY-----)(?:.*?(-----END [A-Z ]*PRIVATE KEY-----)|[A-Za-z0-9+/=\s\\]*)", re.S
        ),
        lambda m: f"{m.group(1)}{MASK}{m.group(2) or ''}",
        "private key-----",
    ),
    # Authorization: Digest username="…", response="…" (quoted parameters: everything after the scheme goes)
    (
        re.compile(r"(?i)(?<![\w\-])(digest[ \t]+)(?:[\w\-]+=(?:\"[^\"\n]*\"|[^\s,\"]+)[, \t]*)+"),
        rf"\1{MASK}",
        "digest",
    ),
    # Authorization / Proxy-Authorization headers, any scheme (Bearer, Basic, SharedKey, token, none)
    (
        re.compile(
            r"(?i)(?<![\w\-])((?:proxy-)?authorization\\?[\"']?[ \t]*+[:=][ \t]*+\\?[\"']?)"
            r"(?!(?:[\w\-]+[ \t]+)?\[REDACTED\])"
            r"(?:(bearer|basic|token|sharedkey(?:lite)?|sharedaccesssignature|sas|negotiate|ntlm|aws4-hmac-sha256|"
            r"apikey|key|digest)[ \t]+)?[^\"'\r\n\\]+"
        ),
        _authorization,
        "authorization",
    ),
    (re.compile(r"(?i)(?<![\w\-])((?:set-)?cookie\\?[\"']?[ \t]*:[ \t]*\\?[\"']?)([^\"'\r\n\\]+)"), _cookie, "cookie"),
    # Bearer/Basic credentials elsewhere; a plain word after it ("Basic authentication") is prose, not a secret
    (
        re.compile(r"(?i)(?<![\w\-])(bearer|basic)[ \t]+(?![A-Z]?[a-z]+\b)[A-Za-z0-9\-._~+/]{8,}=*"),
        rf"\1 {MASK}",
        "",
    ),
    # user:password@host in URLs (postgres, mysql, mongodb+srv, redis, amqp, jdbc:…); the password may hold / and :
    # and even @ (the last @ before a host ends it)
    (
        re.compile(r"(?i)(?<![\w+.\-])([a-z][a-z0-9+.\-]*://[^\s/@:?#\"']*:)\S*?@(?=[^\s@/?#\"']*(?:[/\s?#:\"']|$))"),
        rf"\1{MASK}@",
        "://",
    ),
    # Webhook URLs whose path is the secret: Slack, Teams (Office 365 connectors and webhookb2)
    (re.compile(r"(?i)(hooks\.slack\.com/(?:services|workflows|triggers)/)[\w/\-]+"), rf"\1{MASK}", "hooks.slack"),
    (
        re.compile(r"(?i)(\.webhook\.office\.com/webhookb2/|outlook\.office\.com/webhook/)[^\s\"'<>]+"),
        rf"\1{MASK}",
        "office.com/",
    ),
    # Spark/Hadoop conf lines "fs.azure.account.key.<account>.dfs.core.windows.net <key>" (space separated)
    (
        re.compile(r"(?i)(fs\.azure\.(?:account\.key|sas)\.[\w.\-]+[ \t]+)(?![=:])[A-Za-z0-9+/=%?&\-_.]{16,}"),
        rf"\1{MASK}",
        "fs.azure.",
    ),
    # Azure Functions keys and other secrets that are a query string's whole point
    (
        re.compile(r"(?i)([?&](?:code|key|x-amz-signature|x-amz-credential|x-amz-security-token)=)[^&\s\"'<>]+"),
        rf"\1{MASK}",
        "=",
    ),
    (_PROVIDER_TOKEN, _provider_token, ""),
]


def redact(text: str) -> str:
    """The text with every secret it quotes replaced by [REDACTED]."""
    if not text:
        return text
    lowered = text.lower()
    for pattern, replacement, hint in PATTERNS:
        if hint in lowered:
            text = pattern.sub(replacement, text)
    text = _key_values_redact(text)
    return _AZURE_KEY.sub(MASK, text) if "==" in text else text


def redact_values(value):
    """`value` with every text in it redacted: a string, or the strings in lists and dicts (JSON fields)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [redact_values(item) for item in value]
    if isinstance(value, dict):
        return {key: redact_values(item) for key, item in value.items()}
    return value


def stored_rows_redact(model, fields: tuple[str, ...], *, batch: int = 500) -> None:
    """Redact `fields` of every stored row of `model` (for data migrations); running it again changes nothing."""
    stored_rows_rewrite(model, fields, redact_values, batch=batch)


class RedactingFilter(logging.Filter):
    """A logging filter that takes secrets out of a record's message and traceback before any handler writes it
    (attached to the root handlers, it also covers records that other handlers see after it)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
