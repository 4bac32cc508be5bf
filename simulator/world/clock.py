"""The simulated clock: real time scaled by a speed, plus manual advances; a clock that follows the wall clock never
runs ahead of it."""

from __future__ import annotations

import time

from simulator.timefmt import US_PER_S, real_now_us


class SimClock:
    """now = clock_start + real_elapsed * speed + manual offset; never goes backwards.

    A running clock that starts at the wall clock (a scenario without clock_start, as `make run`'s) is bounded by it:
    a run "starts" or "ends" no later than now, whatever the speed or manual advances.
    """

    def __init__(self, start_us: int, speed: float, *, wall_bound: bool = False) -> None:
        self.start_us = start_us
        self.speed = speed
        self.wall_bound = wall_bound
        self.offset_us = 0
        self._t0 = time.monotonic()
        self._last = start_us

    def now_us(self) -> int:
        elapsed = time.monotonic() - self._t0
        now = self.start_us + int(elapsed * self.speed * US_PER_S) + self.offset_us
        if self.wall_bound:
            now = min(now, real_now_us())
        self._last = max(self._last, now)
        return self._last

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the sim clock cannot go backwards")
        self.offset_us += int(seconds * US_PER_S)

    def set_speed(self, speed: float) -> None:
        # Re-base so the change applies from now on and the current time does not jump.
        now = self.now_us()
        self.start_us, self.offset_us, self._t0, self.speed = now, 0, time.monotonic(), speed
