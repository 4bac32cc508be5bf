"""The detector's training bookkeeping: which earlier points a score may learn from, grouped by season bucket.

Scoring a point needs bucket medians over a sliding window of trained points, for every season, several times. The
window moves by one point per score, so each bucket keeps its values sorted and is updated by one insertion and at
most one removal, instead of being regrouped and re-sorted from the whole window at every point.
"""

import math
from bisect import bisect_left, insort
from collections.abc import Sequence


def median(ordered: Sequence[float]) -> float:
    """The median of values already in ascending order (the same value statistics.median gives)."""
    n = len(ordered)
    middle = n // 2
    if n % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


class SeasonBuckets:
    """The trained points of the window split by one season's bucket: values sorted, indexes in time order, and
    each bucket's median kept current (NaN while empty: no trained point ever looks an empty bucket up)."""

    def __init__(self, keys: list[int], buckets: int) -> None:
        self.keys = keys  # bucket id of every point of the series
        self.values: list[list[float]] = [[] for _ in range(buckets)]
        self.indexes: list[list[int]] = [[] for _ in range(buckets)]
        self.medians: list[float] = [math.nan] * buckets

    def add(self, j: int, y: float) -> None:
        key = self.keys[j]
        values = self.values[key]
        insort(values, y)
        self.indexes[key].append(j)
        self.medians[key] = median(values)

    def remove(self, j: int, y: float) -> None:
        # Points leave the window oldest first, so j is the first index of its bucket.
        key = self.keys[j]
        values = self.values[key]
        del values[bisect_left(values, y)]
        del self.indexes[key][0]
        self.medians[key] = median(values) if values else math.nan


class TrainingWindow:
    """The trained points among the `size` points before the one being scored, by season, plus every trained point
    of one `history_key` bucket of one season over the whole series (month ends come too rarely for a window)."""

    def __init__(
        self, y: list[float], keys: dict[str, list[int]], size: int, history: tuple[str, int] | None = None
    ) -> None:
        self.y = y
        self.size = size
        self.seasons = {name: SeasonBuckets(ids, max(ids, default=0) + 1) for name, ids in keys.items()}
        self.trained: list[int] = []  # every trained point so far, in time order
        self._start = 0  # position in `trained` of the window's oldest point
        self._history = history
        self.history_values: list[float] = []
        self.history_indexes: list[int] = []

    def train(self, j: int) -> None:
        """Learn point j; it must come after every point learnt so far."""
        self.trained.append(j)
        y = self.y[j]
        for buckets in self.seasons.values():
            buckets.add(j, y)
        if self._history is not None and self.seasons[self._history[0]].keys[j] == self._history[1]:
            insort(self.history_values, y)
            self.history_indexes.append(j)

    def slide_to(self, i: int) -> None:
        """Drop the trained points too old for scoring point i."""
        trained, start = self.trained, self._start
        while start < len(trained) and trained[start] < i - self.size:
            j = trained[start]
            for buckets in self.seasons.values():
                buckets.remove(j, self.y[j])
            start += 1
        self._start = start

    def window(self) -> list[int]:
        """The trained points of the window, in time order."""
        return self.trained[self._start :]

    def recent(self, count: int) -> list[int]:
        return self.trained[max(self._start, len(self.trained) - count) :]
