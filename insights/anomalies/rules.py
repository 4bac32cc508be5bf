"""How each monitor kind is judged (direction, minimum change, units) and the user-facing settings of the detector.

A monitor may override its kind's rule: the lead builds `dataclasses.replace(RULES[kind], direction=...,
min_drop=..., min_spike=...)` from the monitor's settings and passes it to `detect`.
"""

import math
from dataclasses import dataclass
from typing import Literal

Direction = Literal["both", "spike", "drop"]
# What a person may say of a point: "expected" (it is normal: never flagged, trained on) or "excluded" (a period to
# ignore, such as a known outage: never flagged, never trained on, no backtest error).
OVERRIDES = ("expected", "excluded")

GRANULARITIES = ("day", "hour")
SENSITIVITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class KindRule:
    """How one monitor kind is judged: which way a change matters and the smallest change worth an alert."""

    direction: Direction
    relative: bool  # compare ratios (log space) rather than differences
    min_spike: float  # relative (0.3 = +30 %) or absolute (in the series' unit) by `relative`
    min_drop: float
    zero_is_anomalous: bool = False
    # Floor of the robust spread, in compared units (log units when relative): a flat series still gets a band.
    min_scale: float = 0.01


RULES: dict[str, KindRule] = {
    # Loads: drops of 30 % and more and 2x duplicates matter; a zero load is always an incident.
    "volume_daily": KindRule("both", True, min_spike=0.3, min_drop=0.2, zero_is_anomalous=True),
    "volume_hourly": KindRule("both", True, min_spike=0.4, min_drop=0.3, zero_is_anomalous=True),
    # A run that "succeeds" in a tenth of its time processed nothing: only a collapse counts as a drop.
    "duration_seconds": KindRule("both", True, min_spike=0.8, min_drop=0.7),
    "runs_per_day": KindRule("both", True, min_spike=0.3, min_drop=0.3),
    # Staleness only grows; the daily minimum margin is FRESHNESS_DAILY_MIN_MINUTES.
    "freshness_lag_minutes": KindRule("spike", False, min_spike=90.0, min_drop=math.inf, min_scale=1.0),
    # Shares in [0, 1] (null ratio, distinct ratio, success rate): a move of 5 points either way matters, and a
    # ratio near 0 or 1 moves by differences, not by factors.
    "ratio": KindRule("both", False, min_spike=0.05, min_drop=0.05, min_scale=0.005),
    # Small counts (reruns per day): only more than usual matters, by 2 or more, however small the usual count.
    "count": KindRule("spike", False, min_spike=2.0, min_drop=math.inf, min_scale=0.25),
}
KINDS = tuple(RULES)
# The values each kind can take; relative kinds are also non-negative whatever their rule says.
VALUE_RANGES = {"ratio": (0.0, 1.0), "count": (0.0, math.inf)}
# Daily freshness is measured once a day: a missed load shows as half a day or more of extra lag.
FRESHNESS_DAILY_MIN_MINUTES = 360.0

# Band width in robust standard deviations, and a factor on the minimum changes, per sensitivity.
BAND_SIGMAS = {"low": 6.0, "medium": 4.5, "high": 3.5}
CHANGE_FACTOR = {"low": 1.5, "medium": 1.0, "high": 0.75}
