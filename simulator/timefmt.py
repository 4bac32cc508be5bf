"""Time helpers. Sim time is kept as integer microseconds since the Unix epoch (UTC).

Integers avoid float rounding, so a timestamp a client echoes back (e.g. a run's lastUpdated used as the next
lastUpdatedAfter) compares exactly equal to the stored value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

US_PER_S = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}:?\d{2})?$"
)


def iso7(us: int) -> str:
    """ADF style: 7 fractional digits and 'Z' (e.g. 2025-03-14T02:00:04.1185392Z).

    We only keep microseconds, so the 7th digit is a deterministic decoration derived from them; parsing
    drops it again, which keeps round trips exact.
    """
    dt = _EPOCH + timedelta(microseconds=us)
    micros = us % US_PER_S
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{micros:06d}{(micros * 7) % 10}Z"


def iso_ms(us: int) -> str:
    """Azure Monitor window style: 3 fractional digits and 'Z'."""
    dt = _EPOCH + timedelta(microseconds=us)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{(us % US_PER_S) // 1000:03d}Z"


def parse_iso(text: str) -> int:
    """Parse an ISO 8601 timestamp (any fraction length, Z or offset, naive = UTC) into epoch microseconds."""
    m = _ISO_RE.match(text.strip())
    if not m:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    dt = datetime(int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=UTC)
    us = int((dt - _EPOCH) // timedelta(microseconds=1))
    if frac:
        us += int((frac + "000000")[:6])
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        us -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60) * US_PER_S
    return us


def to_ms(us: int) -> int:
    return us // 1000


def real_now_us() -> int:
    return int((datetime.now(UTC) - _EPOCH) // timedelta(microseconds=1))


def floor_minute(us: int) -> int:
    return us - us % (60 * US_PER_S)
