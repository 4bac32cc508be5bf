"""A point-by-point anomaly detector for operations metrics: robust seasonal baselines, scored without peeking.

Each point is judged against a baseline learnt only from the points before it that were not themselves flagged, so
the value being scored never dilutes its own baseline and a sustained anomaly keeps being flagged while it lasts
(the flaw users report in Elementary, see ../shared/reference/data-contracts.md sections 4.3 and 9). The season is
chosen per series by a one-step-ahead backtest on the history so far.

Values are compared in log space for volumes and durations (changes are relative), and as differences for freshness
lag (staleness grows linearly), ratios and small counts. A person may mark a point expected (learnt as normal) or
excluded (ignored), and a monitor may replace its kind's rule (rules.py).
"""

import math
import operator
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import repeat
from typing import Literal

from insights.anomalies.baseline import TrainingWindow, median
from insights.anomalies.calendar import dst_change_days, last_business_day, public_holiday
from insights.anomalies.rules import (
    BAND_SIGMAS,
    CHANGE_FACTOR,
    FRESHNESS_DAILY_MIN_MINUTES,
    GRANULARITIES,
    KINDS,
    OVERRIDES,
    RULES,
    SENSITIVITIES,
    VALUE_RANGES,
    KindRule,
)
from insights.anomalies.seasons import Key, seasons

State = Literal["learning", "scored"]


@dataclass(frozen=True)
class Detection:
    anomalous: bool
    expected: float
    low: float
    high: float
    score: float
    season: str
    state: State


# History before alerting and training window, in buckets (three weeks daily, one week hourly).
MIN_HISTORY = {"day": 21, "hour": 168}
WINDOW = {"day": 42, "hour": 672}
BACKTEST = {"day": 28, "hour": 336}
BACKTEST_START = {"day": 7, "hour": 48}
RECENT = {"day": 7, "hour": 24}  # the recent stretch that sets the level offset
# Trailing points `detect_last` scores by default: a training window for the point and for each point of the backtest
# window before it. On the dev corpus (every daily point past 70, every 7th hourly point past 840) the flags all
# matched a full run and 84 % of daily Detections were identical (the rest: month ends learnt over a longer history).
LAST_HISTORY = {granularity: WINDOW[granularity] + BACKTEST[granularity] for granularity in WINDOW}
# Growth of about +0.5 %/day is normal; the level offset may follow it this far (log units per day of age).
TREND_PER_DAY = 0.005
# Month-end close peaks at 2-3x on the last business day: with no month end learnt yet, a peak up to this is normal.
MONTH_END_ALLOWANCE = math.log(3.5)
DST_TOLERANCE_DAYS = 42
# A more complex season must beat the simpler one by this share of backtest error to be chosen.
SIMPLER_MARGIN = 0.05
# A season whose backtest error is within this factor of the chosen one's is still a plausible reading.
PLAUSIBLE = 1.5


class DetectorInputError(ValueError):
    """An unknown kind, granularity or sensitivity, or a value that is not a finite number."""


def detect(
    points: Sequence[tuple[datetime, float]],
    kind: str,
    granularity: str,
    sensitivity: str = "medium",
    overrides: Mapping[int, str] | None = None,
    rule: KindRule | None = None,
) -> list[Detection]:
    """One Detection per point, each computed from that point and the ones before it only. `overrides` maps a point
    index to "expected" or "excluded"; `rule` replaces the kind's rule (a monitor's own direction and changes)."""
    rule = _checked(points, kind, granularity, sensitivity, overrides, rule)
    return _Run(points, rule, kind, granularity, sensitivity, overrides or {}).detections()


def detect_last(
    points: Sequence[tuple[datetime, float]],
    kind: str,
    granularity: str,
    sensitivity: str = "medium",
    overrides: Mapping[int, str] | None = None,
    history: int | None = None,
    rule: KindRule | None = None,
) -> Detection:
    """The Detection of the last point, computed from at most the trailing `history` points (by default
    LAST_HISTORY[granularity], enough for the answer of a full run in the common case)."""
    rule = _checked(points, kind, granularity, sensitivity, overrides, rule)
    if not points:
        raise DetectorInputError("points: a series needs at least one point")
    history = LAST_HISTORY[granularity] if history is None else history
    if history < 1:
        raise DetectorInputError(f"history {history!r} must be at least 1")
    start = max(0, len(points) - history)
    shifted = {index - start: value for index, value in (overrides or {}).items() if index >= start}
    return _Run(points[start:], rule, kind, granularity, sensitivity, shifted).detections()[-1]


def _checked(
    points: Sequence[tuple[datetime, float]],
    kind: str,
    granularity: str,
    sensitivity: str,
    overrides: Mapping[int, str] | None,
    rule: KindRule | None,
) -> KindRule:
    """The rule to judge by, once every argument is known to be usable (else a DetectorInputError naming it)."""
    if kind not in RULES:
        raise DetectorInputError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if granularity not in GRANULARITIES:
        raise DetectorInputError(f"granularity {granularity!r} is not day or hour")
    if sensitivity not in SENSITIVITIES:
        raise DetectorInputError(f"sensitivity {sensitivity!r} is not low, medium or high")
    rule = rule or RULES[kind]
    lowest, highest = VALUE_RANGES.get(kind, (-math.inf, math.inf))
    lowest = max(lowest, 0.0) if rule.relative else lowest
    for index, (_, value) in enumerate(points):
        if not isinstance(value, int | float) or not math.isfinite(value) or not lowest <= value <= highest:
            if math.isinf(lowest):
                wanted = "a finite number"
            elif math.isinf(highest):
                wanted = "a finite, non-negative number"
            else:
                wanted = f"a number between {lowest:g} and {highest:g}"
            raise DetectorInputError(f"point {index}: value {value!r} is not {wanted}")
    for index, override in (overrides or {}).items():
        if not isinstance(index, int) or not 0 <= index < len(points):
            raise DetectorInputError(f"overrides: {index!r} is not the index of a point (0 to {len(points) - 1})")
        if override not in OVERRIDES:
            raise DetectorInputError(f"overrides[{index}]: {override!r} is not expected or excluded")
    return rule


class _Run:
    """The state of one series scored point by point (flags, training window and backtest errors so far)."""

    def __init__(
        self,
        points: Sequence[tuple[datetime, float]],
        rule: KindRule,
        kind: str,
        granularity: str,
        sensitivity: str,
        overrides: Mapping[int, str],
    ) -> None:
        self.times = [t for t, _ in points]
        self.days = [t.date() for t in self.times]
        self.values = [float(v) for _, v in points]
        self.rule, self.granularity, self.overrides = rule, granularity, overrides
        # A freshness lag grows while loads are missed: its readings follow the clock, not a bucket median alone.
        self.lag = kind.startswith("freshness")
        self.y = [math.log1p(v) if rule.relative else v for v in self.values]
        self.seasons = seasons(granularity)
        # Season buckets are numbered per series, so the bookkeeping indexes lists rather than hashing tuples.
        self.bucket_ids: dict[str, dict[Key, int]] = {name: {} for name in self.seasons}
        keys = {
            name: [self.bucket_ids[name].setdefault(season.key(t), len(self.bucket_ids[name])) for t in self.times]
            for name, season in self.seasons.items()
        }
        month_end = self.bucket_ids.get("month_end", {}).get(("month_end",))
        self.window = TrainingWindow(
            self.y, keys, WINDOW[granularity], ("month_end", month_end) if month_end is not None else None
        )
        # Holidays on which the lag grew (no load): the days after them may carry the lag on.
        self.missed_holidays: set[date] = set()
        self._index = {t: i for i, t in enumerate(self.times)}
        # Fallback-only seasons are not candidates of their own.
        self.candidates = [name for name in self.seasons if not name.startswith("day_type")]
        # Backtest errors of the points a season choice learns from (scored, with errors, not flagged), in order.
        self.backtested: list[int] = []
        self.errors: dict[str, list[float]] = {name: [] for name in self.candidates}
        self.sigmas = BAND_SIGMAS[sensitivity]
        factor = CHANGE_FACTOR[sensitivity]
        min_spike = FRESHNESS_DAILY_MIN_MINUTES if self.lag and granularity == "day" else None
        self.min_spike = self._margin(min_spike if min_spike is not None else rule.min_spike, factor, up=True)
        self.min_drop = self._margin(rule.min_drop, factor, up=False)
        self.bucket_hours = 24 if granularity == "day" else 1
        self.dst_days = {d for year in {t.year for t in self.times} for d in dst_change_days(year)}
        self._buckets: dict[str, tuple[list[float], list[int], str]] = {}
        self._offsets: dict[str, float] = {}

    def _margin(self, change: float, factor: float, *, up: bool) -> float:
        if math.isinf(change):
            return math.inf
        if not self.rule.relative:
            return change * factor
        change = min(change * factor, 0.95) if not up else change * factor
        return math.log1p(change) if up else -math.log1p(-change)

    def detections(self) -> list[Detection]:
        detections = []
        for i in range(len(self.values)):
            self.window.slide_to(i)
            self._buckets.clear()
            self._offsets.clear()
            detection, trained = self._score(i)
            detections.append(detection)
            if trained:
                self.window.train(i)
        return detections

    def _score(self, i: int) -> tuple[Detection, bool]:
        """Point i's Detection, and whether later points may learn from it."""
        if not self.window.window():
            first = Detection(False, self.values[i], self.values[i], self.values[i], 0.0, "none", "learning")
            return first, self.overrides.get(i) != "excluded"
        predictions = {name: self._predict(name, i) for name in self.candidates}
        season, plausible = self._choose_season(i)
        errors = [abs(self.y[i] - predictions[name]) for name in self.candidates]
        expected = predictions[season]
        scale = self._scale(season)
        spike, drop = max(self.sigmas * scale, self.min_spike), max(self.sigmas * scale, self.min_drop)
        if self._month_end_unlearnt(season, i) and self.rule.relative:
            spike = max(spike, MONTH_END_ALLOWANCE)
        if self.lag:
            # A lag's bucket can be bimodal (measured just before or just after a load): its highest recent
            # value was normal, so only a lag beyond it counts.
            values, _, _ = self._bucket(season, i)
            spike = max(spike, values[-1] - expected)
        score = (self.y[i] - expected) / scale
        override = self.overrides.get(i)
        if override is None:
            anomalous, untrained = self._judged(i, season, plausible, predictions, spike, drop)
        else:
            # A person's word stands: an expected point is learnt like a normal one, an excluded one not at all.
            anomalous, untrained = False, override == "excluded"
        state: State = "learning" if i < MIN_HISTORY[self.granularity] else "scored"
        anomalous = anomalous and state == "scored"
        if i >= BACKTEST_START[self.granularity] and not anomalous and override != "excluded":
            self.backtested.append(i)
            for name, error in zip(self.candidates, errors, strict=True):
                self.errors[name].append(error)
        detection = Detection(
            anomalous=anomalous,
            expected=self._back(expected),
            low=self._back(expected - drop) if not math.isinf(drop) else 0.0,
            high=self._back(expected + spike),
            score=score,
            season=season,
            state=state,
        )
        return detection, not (untrained or anomalous or public_holiday(self.days[i]))

    def _judged(
        self, i: int, season: str, plausible: list[str], predictions: dict[str, float], spike: float, drop: float
    ) -> tuple[bool, bool]:
        """Whether point i is anomalous, and whether it must stay out of later baselines even so."""
        expected = predictions[season]
        anomalous = self._outside(self.y[i] - expected, spike, drop)
        untrained = False
        if anomalous:
            # Flag only what every plausible reading agrees on: the other seasons that backtest nearly as well,
            # and the calendar's legitimate oddities.
            readings = [predictions[name] for name in plausible] + self._dst_readings(season, i)
            anomalous = all(self._outside(self.y[i] - alt, spike, drop) for alt in readings)
        if anomalous:
            holiday = self._holiday_readings(season, i)
            anomalous = all(self._outside(self.y[i] - alt, spike, drop) for alt in holiday)
            # A holiday's value is normal but unlike its weekday: it stays out of the baselines.
            untrained = not anomalous
            if not anomalous and public_holiday(self.days[i]):
                self.missed_holidays.add(self.days[i])
        if self.rule.zero_is_anomalous and self.values[i] == 0 and self._back(expected) >= 1:
            anomalous = True
        return anomalous, untrained

    def _outside(self, deviation: float, spike: float, drop: float) -> bool:
        if deviation > spike and self.rule.direction in ("both", "spike"):
            return True
        return deviation < -drop and self.rule.direction in ("both", "drop")

    def _back(self, y: float) -> float:
        return math.expm1(y) if self.rule.relative else y

    def _bucket(self, season: str, i: int) -> tuple[list[float], list[int], str]:
        """The training values (sorted) and indexes of i's season bucket, falling back to the parent season when
        too few, and the season used."""
        cached = self._buckets.get(season)
        if cached is not None:
            return cached
        name: str | None = season
        while name is not None:
            buckets = self.window.seasons[name]
            if name == "month_end" and self._is_month_end(i):
                values, indexes = self.window.history_values, self.window.history_indexes
            else:
                key = buckets.keys[i]
                values, indexes = buckets.values[key], buckets.indexes[key]
            if len(values) >= self.seasons[name].min_bucket or self.seasons[name].parent is None:
                self._buckets[season] = (values, indexes, name)
                return values, indexes, name
            name = self.seasons[name].parent
        raise AssertionError("the season chain ends with none")

    def _is_month_end(self, i: int) -> bool:
        return self.granularity == "day" and last_business_day(self.days[i])

    def _predict(self, season: str, i: int) -> float:
        """Expected value of point i: its bucket's median plus the recent level offset, within the trend allowance."""
        values, indexes, used = self._bucket(season, i)
        base = median(values)
        if not self.rule.relative:
            return base
        age_days = (i - median(indexes)) * self.bucket_hours / 24
        limit = TREND_PER_DAY * age_days
        offset = self._offsets.get(used)
        if offset is None:
            recent = self.window.recent(RECENT[self.granularity])
            offset = self._offsets[used] = median(sorted(self._residuals(used, recent))) if recent else 0.0
        return base + max(-limit, min(limit, offset))

    def _residuals(self, season: str, indexes: list[int]) -> list[float]:
        """The values of the points at `indexes` less their season bucket's median (mapped in C: the hot loop)."""
        buckets = self.window.seasons[season]
        bucket_medians = map(buckets.medians.__getitem__, map(buckets.keys.__getitem__, indexes))
        return list(map(operator.sub, map(self.y.__getitem__, indexes), bucket_medians))

    def _scale(self, season: str) -> float:
        """Robust spread of the training points around their bucket medians, from successive differences so that
        a slow level change (trend, drift) does not widen the band."""
        residuals = self._residuals(self._buckets[season][2], self.window.window())
        steps = sorted(map(operator.sub, residuals[1:], residuals)) or [0.0]
        center = median(steps)
        # Distances from the median of sorted steps form two sorted runs, which sorting merges in linear time.
        mad = median(sorted(map(abs, map(float.__sub__, steps, repeat(center)))))
        return max(1.4826 * mad / math.sqrt(2), self.rule.min_scale)

    def _choose_season(self, i: int) -> tuple[str, list[str]]:
        """The season with the lowest backtest error so far, and the others within PLAUSIBLE of it."""
        names = self.candidates
        start = bisect_left(self.backtested, i - BACKTEST[self.granularity])
        if start == len(self.backtested):
            return names[0], []
        costs = {name: sum(self.errors[name][start:]) for name in names}
        chosen = names[0]
        for name in names[1:]:
            # Month end refines day of week: it only differs on last business days, so ties go to it.
            margin = 0.0 if name == "month_end" else SIMPLER_MARGIN
            if costs[name] < costs[chosen] * (1 - margin) or (margin == 0.0 and costs[name] <= costs[chosen]):
                chosen = name
        plausible = [name for name in names if name != chosen and costs[name] <= costs[chosen] * PLAUSIBLE]
        return chosen, plausible

    def _month_end_unlearnt(self, season: str, i: int) -> bool:
        if not self._is_month_end(i):
            return False
        return season != "month_end" or not self.window.history_values

    def _holiday_readings(self, season: str, i: int) -> list[float]:
        """Expected values if point i follows the business calendar: a public holiday behaves like a weekend day,
        and a lag keeps growing through a holiday and the days after it until the next load."""
        day = self.days[i]
        readings = []
        if public_holiday(day) and season in ("day_of_week", "month_end", "hour_of_week"):
            weekend = [self.times[i] + timedelta(days=d - day.weekday()) for d in (5, 6)]
            readings += self._shifted(season, weekend)
        if self.lag and (
            public_holiday(day) or any(day - timedelta(days=d) in self.missed_holidays for d in range(1, 4))
        ):
            earlier = self._index.get(self.times[i] - timedelta(days=1))
            if earlier is not None:
                readings.append(self.y[earlier] + 24 * 60)
        return readings

    def _dst_readings(self, season: str, i: int) -> list[float]:
        """Expected values one hour earlier or later in the weeks after a daylight-saving change."""
        if self.granularity != "hour" or season == "none" or not self._after_dst(self.days[i]):
            return []
        return self._shifted(season, [self.times[i] + timedelta(hours=h) for h in (-1, 1)])

    def _shifted(self, season: str, moments: list[datetime]) -> list[float]:
        readings = []
        for moment in moments:
            key = self.bucket_ids[season].get(self.seasons[season].key(moment))
            values = self.window.seasons[season].values[key] if key is not None else []
            if len(values) >= self.seasons[season].min_bucket:
                readings.append(median(values))
        return readings

    def _after_dst(self, day: date) -> bool:
        return any(timedelta(0) <= day - change <= timedelta(days=DST_TOLERANCE_DAYS) for change in self.dst_days)
