"""The platforms' own taxonomies, used where no specific rule decides: SQLSTATE classes (also reached through a Spark
error class), Databricks termination codes and types, the ADF error codes of Microsoft's troubleshooting guides, SQL
Server error numbers, cloud provider error codes, exception class hierarchies and HTTP status families.

Each table is data in ``knowledge/taxonomy/`` with its source noted there; every entry was decided from what the code
means, not from example messages. A code whose class does not tell the cause (a wrapper exception, HTTP 400, SQLSTATE
XX000) maps to ``unknown`` and yields no verdict, so a more specific layer or rule decides.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aimsweb.choices import ErrorCategory

TAXONOMY_DIR = Path(__file__).with_name("knowledge") / "taxonomy"
SPARK_SQLSTATES = "spark_sqlstates.json"
ADF_CODES = "adf_codes.yaml"

# How much a layer's verdict weighs, on the rule priority scale (knowledge/README.md): documented codes sit with the
# specific rules (60-79), exception classes and HTTP families with the generic signals (40-59).
LAYER_PRIORITY: Mapping[str, float] = {
    "termination_code": 68,
    "sqlstate": 66,
    "sqlserver": 64,
    "sqlstate_wrapper": 54,  # a connection-exception class: where the failure surfaced, the cause inside decides
    "spark_error_class": 62,
    # below the specific rules of adf.yaml (62+), which know the same codes with their message variants
    "adf_code": 61,
    "adf_activity_code": 59,  # numeric activity codes: an inner connector or data flow code outranks them
    "cloud": 60,
    "exception": 52,
    "termination_type": 46,
    "http": 44,
}
LAYER_LABEL: Mapping[str, str] = {
    "termination_code": "Databricks termination code",
    "sqlstate": "SQLSTATE",
    "sqlserver": "SQL Server error",
    "sqlstate_wrapper": "SQLSTATE",
    "spark_error_class": "Spark error class",
    "adf_code": "ADF error code",
    "adf_activity_code": "ADF activity error code",
    "cloud": "cloud error code",
    "exception": "exception class",
    "termination_type": "Databricks termination type",
    "http": "HTTP status",
}

_SQLSTATE = re.compile(r"\bSQL\s?STATE\s*[:=\[(]?\s*['\"]?([0-9A-Z]{5})\b", re.IGNORECASE)
# ODBC diagnostic records as .NET's ODBC provider prints them: "ERROR [08S01] [Microsoft][ODBC ...] message"
_ODBC_STATE = re.compile(r"\bERROR \[([0-9A-Z]{5})\](?= ?\[)")
_SPARK_CLASS = re.compile(r"\[([A-Z][A-Z0-9_]{2,})(?:\.[A-Z0-9_]+)*\]")
_UPPER_CODE = re.compile(r"\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\b")
# The Databricks UI and docs print a termination reason code in words ("Reason: Cloud Provider Launch Failure"); the
# words after a termination's "Reason:" are read back as the enum name (see _termination_words).
_TERMINATION_WORDS = re.compile(
    r"(?:\b(?:terminat\w*|cluster)\b[^\n]{0,200}?\breason|\btermination reason(?: code)?)\s*[:=]\s*"
    r"([A-Za-z][A-Za-z0-9]*(?:[ _-][A-Za-z0-9]+){0,9})",
    re.IGNORECASE,
)
_WORD_SEPARATOR = re.compile(r"[ _-]+")
_SQLSERVER_NUMBER = re.compile(
    r"(?:\bSqlErrorNumber\s*=\s*|\bSql error number:?\s*|\bErrors=\[\{Class=\d+,Number=|\bMsg\s+)(-?\d+)", re.IGNORECASE
)
_EXCEPTION = re.compile(r"(?<![\w$.])((?:[A-Za-z_][\w$]*\.)*([A-Z][\w$]*))(?=:|\s*$|\s*\(|,|\s+at\s)", re.MULTILINE)
_HTTP_NUMBER = re.compile(
    r"(?:\bHTTP(?:/\d(?:\.\d)?)?\s*(?:status\s*)?(?:response\s*)?(?:code\s*)?[:=]?\s*"
    r"|\bstatus(?:[ _]?code)?\s*[:=\-]?\s*['\"]?"
    r"|\berror:\s*\(|does not indicate success:\s*|\bStatusCode\s*[:=]\s*['\"]?|,\s*|\btoo many\s+)"
    r"([1-5]\d\d)\b(?!\.\d)(?:\)|'|\"|\s|,|$|\.(?!\d))",
    re.IGNORECASE,
)
_HTTP_PHRASE = re.compile(
    r"\b([1-5]\d\d)\s+(?:Client Error|Server Error|Not Found|Forbidden|Unauthorized|Bad Request|Too Many Requests"
    r"|Service Unavailable|Server Unavailable|Internal Server Error|Bad Gateway|Gateway Time-?out|Conflict"
    r"|Request Timeout|Payload Too Large|Request Entity Too Large|Unprocessable Entity|Gone|Method Not Allowed)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\b[A-Za-z][A-Za-z_]+\b")
# Azure names its quota errors "<Resource>QuotaExceeded" / "<Resource>CountLimitReached" (ARM deployment errors)
_QUOTA_CODE = re.compile(r"[A-Z][A-Za-z]+(?:QuotaExceeded|LimitReached)")
# ADF error codes as messages state them: the copy activity's "ErrorCode=X", activity JSON "errorCode": "2200", a
# data flow's "StatusCode":"DF-...", "Error code: X" / "the error code is: X". Numeric codes count only there (and as
# the run's own error code): a bare number is no code.
_ADF_CODE_CONTEXT = re.compile(
    r"(?:\bErrorCode\s*=\s*'?|[\"']?\berror_?code[\"']?\s*[:=]\s*[\"']?|\bError\s*Code(?:\s+is)?\s*[:=]\s*'?"
    r"|[\"']?\bStatusCode[\"']?\s*:\s*[\"'])([A-Za-z][\w-]+|\d{3,4}\b)",
    re.IGNORECASE,
)
_ADF_DATA_FLOW_CODE = re.compile(r"\bDF-[A-Za-z0-9]+(?:-[\w-]+|_\d+)")
# Named codes long enough to be unmistakable also count without a label ("... SqlBatchWriteTransactionFailed: ...");
# short ones (InvalidInput, GenericIssues) only where the message calls them a code.
_ADF_BARE_CODE = re.compile(r"\b[A-Z][A-Za-z0-9]{14,}\b")
_HTTP_NAME = re.compile(r"(?:status(?:[ _]?code)?\s*[-:=]?\s*['\"]?|HttpStatusCode\s*[-:=]?\s*)([A-Z][A-Za-z]+)\b")


@dataclass(frozen=True)
class Verdict:
    category: ErrorCategory
    layer: str  # a key of LAYER_PRIORITY
    evidence: str  # what was found: "SQLSTATE 42P01", "java.net.UnknownHostException", "HTTP 503"
    meaning: str  # what the taxonomy says it means
    position: int  # where the evidence starts in the text (-1: from a code given with the message)

    @property
    def priority(self) -> float:
        return LAYER_PRIORITY[self.layer]


@dataclass(frozen=True)
class Taxonomy:
    sqlstate_classes: Mapping[str, tuple[ErrorCategory, str]]
    sqlstate_subclasses: Mapping[str, tuple[ErrorCategory, str]]
    sqlstate_wrappers: frozenset[str]  # classes and states that say where a failure surfaced, not why
    spark_sqlstates: Mapping[str, str]  # Spark error class -> SQLSTATE
    class_name_suffixes: Mapping[str, tuple[ErrorCategory, str]]  # error class name ending -> (class, meaning)
    termination_codes: Mapping[str, ErrorCategory]
    termination_types: Mapping[str, ErrorCategory]
    exceptions: Mapping[str, ErrorCategory]  # simple class name -> class
    http: Mapping[int, ErrorCategory]
    http_names: Mapping[str, int]
    sqlserver: Mapping[int, ErrorCategory]
    cloud: Mapping[str, ErrorCategory]
    adf_codes: Mapping[str, tuple[ErrorCategory, str]]  # casefolded code -> (class, documented cause)

    def sqlstate(self, state: str) -> tuple[ErrorCategory, str] | None:
        """The class of a SQLSTATE: its subclass when that is listed, else its two-character class."""
        state = state.upper()
        return self.sqlstate_subclasses.get(state) or self.sqlstate_classes.get(state[:2])

    def verdicts(self, text: str, codes: Iterable[str] = ()) -> list[Verdict]:
        """Every decisive taxonomy signal in ``text`` (and in ``codes`` given with it), in no particular order."""
        found: list[Verdict] = []

        def add(category: ErrorCategory | None, layer: str, evidence: str, meaning: str, position: int) -> None:
            if category is not None and category != ErrorCategory.UNKNOWN:
                found.append(Verdict(category, layer, evidence, meaning, position))

        for match in (*_SQLSTATE.finditer(text), *_ODBC_STATE.finditer(text)):
            if decided := self.sqlstate(match[1]):
                add(
                    decided[0],
                    self._sqlstate_layer(match[1]),
                    f"SQLSTATE {match[1].upper()}",
                    decided[1],
                    match.start(),
                )
        error_classes = [(m[1], m.start()) for m in _SPARK_CLASS.finditer(text)]
        upper_codes = [(m[1], m.start()) for m in _UPPER_CODE.finditer(text)]
        given = [(code.strip(), -1) for code in codes if code and code.strip()]
        for name, position in error_classes + given:
            base = name.split(".")[0].upper()
            if named := self._named_by_suffix(base):
                add(named[0], "spark_error_class", f"[{base}]", named[1], position)
            elif (state := self.spark_sqlstates.get(base)) and (decided := self.sqlstate(state)):
                add(decided[0], "spark_error_class", f"[{base}] (SQLSTATE {state})", decided[1], position)
        for name, position in upper_codes + self._termination_words(text) + given:
            if name in self.termination_codes:
                add(self.termination_codes[name], "termination_code", name, _words(name), position)
            elif name in self.termination_types:
                add(self.termination_types[name], "termination_type", name, _words(name), position)
        for code, position in self._stated_adf_codes(text) + given:
            if decided := self.adf_codes.get(code.casefold()):
                layer = "adf_activity_code" if code.isdigit() else "adf_code"
                add(decided[0], layer, f"ADF {code}", decided[1], position)
        for match in _SQLSERVER_NUMBER.finditer(text):
            number = int(match[1])
            add(self.sqlserver.get(number), "sqlserver", f"SQL Server error {number}", "error number", match.start())
        for code, position in [(m[0], m.start()) for m in _WORD.finditer(text)] + given:
            if code in self.cloud:
                add(self.cloud[code], "cloud", code, "cloud provider error code", position)
            elif _QUOTA_CODE.fullmatch(code):
                add(ErrorCategory.RESOURCE, "cloud", code, "cloud provider quota reached", position)
        for match in _EXCEPTION.finditer(text):
            qualified, simple = match[1], match[2]
            if simple in self.exceptions:
                add(self.exceptions[simple], "exception", qualified, "exception class", match.start())
        for match in (*_HTTP_NUMBER.finditer(text), *_HTTP_PHRASE.finditer(text)):
            status = int(match[1])
            add(self.http.get(status, _http_family(status)), "http", f"HTTP {status}", "HTTP status", match.start(1))
        for match in _HTTP_NAME.finditer(text):
            if (named_status := self.http_names.get(match[1])) is not None:
                add(
                    self.http.get(named_status),
                    "http",
                    f"HTTP {named_status} ({match[1]})",
                    "HTTP status",
                    match.start(1),
                )
        return found

    @staticmethod
    def _stated_adf_codes(text: str) -> list[tuple[str, int]]:
        """ADF error codes stated in the text, with where they start."""
        found = [(m[1], m.start(1)) for m in _ADF_CODE_CONTEXT.finditer(text)]
        found += [(m[0], m.start()) for m in _ADF_DATA_FLOW_CODE.finditer(text)]
        found += [(m[0], m.start()) for m in _ADF_BARE_CODE.finditer(text)]
        return found

    def _named_by_suffix(self, error_class: str) -> tuple[ErrorCategory, str] | None:
        """The class an error class's name states (``..._NOT_FOUND`` of an object or setting), which outranks its
        SQLSTATE: Spark files a missing SQL config under 42K0I, a syntax-or-access class."""
        for suffix, decided in self.class_name_suffixes.items():
            if error_class.endswith(suffix):
                return decided
        return None

    def _sqlstate_layer(self, state: str) -> str:
        """A wrapper (class 08 connection exception, HYT00 timeout expired) says where a failure surfaced, not why; a
        listed subclass of a wrapper class names its own cause."""
        state = state.upper()
        wrapper = state in self.sqlstate_wrappers or (
            state not in self.sqlstate_subclasses and state[:2] in self.sqlstate_wrappers
        )
        return "sqlstate_wrapper" if wrapper else "sqlstate"

    def _termination_words(self, text: str) -> list[tuple[str, int]]:
        """Termination reasons printed in words, as their enum names: the longest leading run of words that names a
        termination code or type ("Azure Vnet Configuration Failure. Help: ..." -> AZURE_VNET_CONFIGURATION_FAILURE)."""
        found = []
        for match in _TERMINATION_WORDS.finditer(text):
            words = _WORD_SEPARATOR.split(match[1].upper())
            for count in range(len(words), 0, -1):
                name = "_".join(words[:count])
                if name in self.termination_codes or name in self.termination_types:
                    found.append((name, match.start(1)))
                    break
        return found


def _words(code: str) -> str:
    return code.replace("_", " ").lower()


def _http_family(status: int) -> ErrorCategory | None:
    """Statuses the table does not list fall back to their family: 5xx is a server fault, other 4xx decide nothing."""
    return ErrorCategory.TRANSIENT if 500 <= status <= 599 and status not in (501, 505) else None


@functools.cache
def taxonomy(directory: Path = TAXONOMY_DIR) -> Taxonomy:
    """The tables, read and checked once."""
    sqlstate = _read(directory / "sqlstate.yaml")
    termination = _read(directory / "termination_codes.yaml")
    exceptions = _read(directory / "exceptions.yaml")
    signals = _read(directory / "signals.yaml")
    spark = json.loads((directory / SPARK_SQLSTATES).read_text(encoding="utf-8"))
    adf = _read(directory / ADF_CODES)
    return Taxonomy(
        sqlstate_classes={str(k): (ErrorCategory(v[0]), v[1]) for k, v in sqlstate["classes"].items()},
        sqlstate_subclasses={str(k): (ErrorCategory(v[0]), v[1]) for k, v in sqlstate["subclasses"].items()},
        sqlstate_wrappers=frozenset(str(k) for k in sqlstate["wrapper_classes"]),
        spark_sqlstates={str(k): str(v) for k, v in spark["error_classes"].items()},
        class_name_suffixes={str(k): (ErrorCategory(v[0]), v[1]) for k, v in sqlstate["class_name_suffixes"].items()},
        termination_codes=_invert(termination["codes"]),
        termination_types={k: ErrorCategory(v) for k, v in termination["types"].items()},
        exceptions=_invert(exceptions),
        http={int(k): v for k, v in _invert(signals["http"]).items()},
        http_names={str(k): int(v) for k, v in signals["http_names"].items()},
        sqlserver={int(k): v for k, v in _invert(signals["sqlserver"]).items()},
        cloud=_invert(signals["cloud"]),
        adf_codes=_adf_codes(adf["codes"]),
    )


def _read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _adf_codes(entries: Mapping[Any, list[Any]]) -> dict[str, tuple[ErrorCategory, str]]:
    """{code: [class, cause, guide]} keyed case-insensitively (the guides spell DF-DELTA and DF-Delta alike); a code
    listed twice is a data error."""
    table: dict[str, tuple[ErrorCategory, str]] = {}
    for code, (category, cause, _guide) in entries.items():
        key = str(code).casefold()
        if key in table:
            raise ValueError(f"taxonomy: ADF code {code!r} is listed twice")
        table[key] = (ErrorCategory(category), str(cause))
    return table


def _invert(by_category: Mapping[str, list[Any]]) -> dict[Any, ErrorCategory]:
    """{category: [code, ...]} -> {code: category}; a code listed under two categories is a data error."""
    table: dict[Any, ErrorCategory] = {}
    for category, codes in by_category.items():
        for code in codes:
            if code in table:
                raise ValueError(f"taxonomy: {code!r} is listed under both {table[code]} and {category}")
            table[code] = ErrorCategory(category)
    return table
