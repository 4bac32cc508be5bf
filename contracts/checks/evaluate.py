"""Measured values judged against their clauses: the outcome of each clause (passed, failed, warning, error) with
the observed value in the clause's unit, a message in words, and samples masked when the column is classified."""

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum

from contracts.checks.clauses import ZERO, Clause, Measure
from contracts.odcs.model import Threshold

MASK = "•••• (masked: classified column)"


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Outcome:
    clause: Clause
    status: Status
    observed: float | int | None  # in the clause's unit (rows, percent, seconds of age, the SQL rule's number)
    message: str
    count: int | None = None  # the raw count behind a percent
    sample: tuple[dict, ...] = field(default=())  # {"value": text, "rows": n}

    @property
    def broken(self) -> bool:
        return self.status in (Status.FAILED, Status.WARNING)


OPERATOR_WORDS = {
    "mustBe": "=",
    "mustNotBe": "≠",
    "mustBeGreaterThan": ">",
    "mustBeGreaterOrEqualTo": "≥",
    "mustBeLessThan": "<",
    "mustBeLessOrEqualTo": "≤",
}


def threshold_text(threshold: Threshold, unit: str) -> str:
    suffix = " %" if unit == "percent" else ""
    if threshold.operator == "mustBeBetween":
        return f"strictly between {_number(threshold.low)} and {_number(threshold.high)}{suffix}"
    if threshold.operator == "mustNotBeBetween":
        return f"not strictly between {_number(threshold.low)} and {_number(threshold.high)}{suffix}"
    return f"{OPERATOR_WORDS[threshold.operator]} {_number(threshold.value)}{suffix}"


def _number(value: object) -> str:
    if isinstance(value, float | Decimal):
        return f"{float(value):,.4g}" if abs(float(value)) < 1e6 else f"{float(value):,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def age_seconds(newest: object, *, now: datetime) -> float | None:
    """Seconds since a column's newest value (a date counts from its midnight; a time without zone is UTC)."""
    if newest is None:
        return None
    if isinstance(newest, str):
        newest = datetime.fromisoformat(newest)
    if isinstance(newest, date) and not isinstance(newest, datetime):
        newest = datetime.combine(newest, time.min)
    if not isinstance(newest, datetime):
        raise ValueError(f"the newest value {newest!r} is not a date or a time")
    if newest.tzinfo is None:
        newest = newest.replace(tzinfo=UTC)
    return max(0.0, (now - newest).total_seconds())


def judge(clause: Clause, measured: object, *, rows: int | None, now: datetime) -> Outcome:
    """The outcome of one clause from its measured value (a count, a maximum, or a SQL rule's number)."""
    count: int | None = None
    observed: float | int | None
    try:
        if clause.measure == Measure.FRESHNESS:
            observed = age_seconds(measured, now=now)
            if observed is None:
                return _outcome(clause, Status.FAILED, None, f"{clause.label}: the table has no value of it")
        elif clause.measure == Measure.SQL:
            observed = _sql_number(measured)
        else:
            count = int(measured)  # type: ignore[call-overload]
            observed = count
            if clause.unit == "percent":
                observed = round(100.0 * count / rows, 4) if rows else 0.0
    except (TypeError, ValueError) as exc:
        return _outcome(clause, Status.ERROR, None, f"{clause.label}: could not read the measured value ({exc})")
    holds = clause.threshold.holds(observed)
    status = Status.PASSED if holds else (Status.WARNING if clause.warning else Status.FAILED)
    return _outcome(clause, status, observed, _message(clause, observed, count, rows), count=count)


def _sql_number(value: object) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if value is None:
        raise ValueError("the query returned no value")
    return float(str(value))


def _message(clause: Clause, observed: float | int, count: int | None, rows: int | None) -> str:
    expected = threshold_text(clause.threshold, clause.unit)
    if clause.measure == Measure.FRESHNESS:
        return f"{clause.label}: the newest value is {_age(observed)} old"
    if clause.unit == "percent":
        of = f" ({count:,} of {rows:,} rows)" if count is not None and rows is not None else ""
        return f"{clause.label}: {observed:g} %{of}; must be {expected}"
    if clause.measure in (Measure.SQL, Measure.ROW_COUNT):
        return f"{clause.label}: {_number(observed)}; must be {expected}"
    of = f" of {rows:,}" if rows is not None else ""
    broken = f"{clause.label}: {_number(observed)}{of} rows break it"
    # "none may" goes without saying for a promise of the contract; a rule with a tolerance says it
    return broken if clause.threshold == ZERO else f"{broken} (allowed: {expected})"


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _outcome(clause: Clause, status: Status, observed, message: str, *, count: int | None = None) -> Outcome:
    return Outcome(clause=clause, status=status, observed=observed, message=message, count=count)


def with_samples(outcome: Outcome, rows: list[tuple[str | None, int]], *, masked: bool) -> Outcome:
    """The outcome with up to five failing values (or row keys) and how many rows hold each."""
    sample = tuple({"value": MASK if masked else value, "rows": int(n)} for value, n in rows[:5])
    return replace(outcome, sample=sample)


def error_outcome(clause: Clause, message: str) -> Outcome:
    return _outcome(clause, Status.ERROR, None, f"{clause.label}: {message}")
