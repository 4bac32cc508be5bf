"""How strict a quality threshold or a service level is, so that two versions of a contract can say which one
promises more. Kept apart from the element walk in `contracts.odcs.diff`."""

import math
import re
from dataclasses import dataclass
from typing import Literal

from contracts.odcs.model import OPERATORS

Strictness = Literal["same", "tightened", "relaxed"]
LIBRARY_METRICS = frozenset({"nullValues", "missingValues", "invalidValues", "duplicateValues", "rowCount"})


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    low_closed: bool
    high_closed: bool

    def within(self, other: "Interval") -> bool:
        low_ok = self.low > other.low or (self.low == other.low and (other.low_closed or not self.low_closed))
        high_ok = self.high < other.high or (self.high == other.high and (other.high_closed or not self.high_closed))
        return low_ok and high_ok


Accepted = tuple[Interval, ...]  # the observed values a rule accepts: a union of disjoint intervals


def rule_operator(rule: dict) -> str | None:
    return next((op for op in OPERATORS if op in rule), None)


def threshold_strictness(old: dict, new: dict) -> Strictness:
    """Compare the values two versions of a rule accept. Counts in rows are whole numbers, so `mustBeLessThan: 1`
    and `mustBe: 0` accept the same; a rows <-> percent switch is only comparable at zero and at no limit at all,
    and anything that is neither a subset nor a superset counts as tightened (a consumer cannot rely on it)."""
    old_set, new_set = _accepted(old), _accepted(new)
    if old_set == new_set and _unit(old) == _unit(new):
        return "same"
    if old_set is None or new_set is None:
        return "relaxed" if new_set is None else "tightened"
    if _unit(old) == _unit(new):
        return _by_inclusion(old_set, new_set)
    zero = (Interval(0, 0, True, True),)
    everything = _domain(new)
    if old_set == zero and new_set == zero:
        return "same"
    if _within(everything, new_set) or (old_set == zero and _within(zero, new_set)):
        return "relaxed"
    return "tightened"


def _by_inclusion(old_set: Accepted, new_set: Accepted) -> Strictness:
    if _within(old_set, new_set) and _within(new_set, old_set):
        return "same"
    if _within(old_set, new_set):
        return "relaxed"
    return "tightened"


def _within(inner: Accepted, outer: Accepted) -> bool:
    return all(any(part.within(whole) for whole in outer) for part in inner)


def _unit(rule: dict) -> str:
    return str(rule.get("unit") or "rows")


def _domain(rule: dict) -> Accepted:
    metric = rule.get("metric")
    if metric in LIBRARY_METRICS:
        high = 100.0 if _unit(rule) == "percent" else math.inf
        return (Interval(0, high, True, high != math.inf),)
    return (Interval(-math.inf, math.inf, False, False),)


def _accepted(rule: dict) -> Accepted | None:
    operator = rule_operator(rule)
    if operator is None:
        return None
    value = rule[operator]
    inf = math.inf
    try:
        match operator:
            case "mustBe":
                parts = [Interval(float(value), float(value), True, True)]
            case "mustNotBe":
                parts = [Interval(-inf, float(value), False, False), Interval(float(value), inf, False, False)]
            case "mustBeGreaterThan":
                parts = [Interval(float(value), inf, False, False)]
            case "mustBeGreaterOrEqualTo":
                parts = [Interval(float(value), inf, True, False)]
            case "mustBeLessThan":
                parts = [Interval(-inf, float(value), False, False)]
            case "mustBeLessOrEqualTo":
                parts = [Interval(-inf, float(value), False, True)]
            case "mustBeBetween":  # exclusive of both bounds, as ODCS defines it
                parts = [Interval(float(value[0]), float(value[1]), False, False)]
            case _:
                parts = [Interval(-inf, float(value[0]), False, True), Interval(float(value[1]), inf, True, False)]
    except (TypeError, ValueError, IndexError, KeyError):
        return None
    return _restrict(parts, rule)


def _restrict(parts: list[Interval], rule: dict) -> Accepted:
    """Clip to the values the metric can take; whole-number counts get closed integer bounds."""
    (domain,) = _domain(rule)
    whole = rule.get("metric") in LIBRARY_METRICS and _unit(rule) == "rows"
    kept = []
    for part in parts:
        low, low_closed = (part.low, part.low_closed) if part.low >= domain.low else (domain.low, domain.low_closed)
        high, high_closed = (part.high, part.high_closed) if part.high <= domain.high else (domain.high, True)
        if whole:
            low = math.ceil(low) if low_closed else math.floor(low) + 1
            if high != math.inf:
                high = math.floor(high) if high_closed else math.ceil(high) - 1
            low_closed, high_closed = True, high != math.inf
        if low < high or (low == high and low_closed and high_closed):
            kept.append(Interval(low, high, low_closed, high_closed))
    return tuple(kept)


# Seconds per unit, as ODCS and datacontract-cli write them (`m` is minutes; months and years as 30 and 365 days).
_SECONDS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
    "w": 604800,
    "week": 604800,
    "mo": 2592000,
    "month": 2592000,
    "y": 31536000,
    "yr": 31536000,
    "year": 31536000,
}
_ISO_DURATION = re.compile(
    r"P(?:(?P<y>\d+(?:\.\d+)?)Y)?(?:(?P<mo>\d+(?:\.\d+)?)M)?(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
# Promises where a larger number is the stronger one; for durations other than retention, shorter is stronger.
_LARGER_IS_STRICTER = frozenset({"retention", "availability", "generalavailability", "throughput"})
_SMALLER_IS_STRICTER = frozenset({"errorrate"})


def duration_seconds(value: object, unit: object) -> float | None:
    """A service level's value in seconds: `30` + `min`, `4 h`, `1d`, or an ISO-8601 duration such as `PT4H`."""
    text = f"{value} {unit or ''}".strip().lower() if not isinstance(value, bool) else ""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]+?)s?", text)
    if match and match.group(2) in _SECONDS:
        return float(match.group(1)) * _SECONDS[match.group(2)]
    iso = _ISO_DURATION.fullmatch(str(value).strip()) if unit in (None, "") else None
    if iso and any(iso.groupdict().values()):
        return sum(float(amount) * _SECONDS[part] for part, amount in iso.groupdict().items() if amount)
    return None


def sla_strictness(prop: str, old: dict, new: dict) -> Literal["same", "equivalent", "tightened", "relaxed", "changed"]:
    """Whether the promise of an `slaProperties` entry got stronger, weaker, or is the same in another unit."""
    if (old.get("value"), old.get("unit")) == (new.get("value"), new.get("unit")):
        return "same"
    key = prop.lower()
    before, after = (
        duration_seconds(old.get("value"), old.get("unit")),
        duration_seconds(new.get("value"), new.get("unit")),
    )
    if before is None or after is None:
        if old.get("unit") != new.get("unit") or not all(_is_number(s.get("value")) for s in (old, new)):
            return "changed"
        before, after = float(old["value"]), float(new["value"])
        if key not in _LARGER_IS_STRICTER | _SMALLER_IS_STRICTER:
            return "changed"
    if before == after:
        return "equivalent"
    stronger = after > before if key in _LARGER_IS_STRICTER else after < before
    return "tightened" if stronger else "relaxed"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
