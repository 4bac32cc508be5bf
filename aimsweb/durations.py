"""Durations in words, the same on every page, message and notification."""

from datetime import timedelta

_MILLISECOND = timedelta(milliseconds=1)


def duration_text(delta: timedelta | None) -> str:
    """A duration for people, in its two largest units, truncated: 850 ms, 42 s, 3 min 37 s, 3 min, 2 h 5 min,
    2 d 3 h; '—' when there is none. A negative one (clocks apart) is 0 s."""
    if delta is None:
        return "—"
    milliseconds = max(delta // _MILLISECOND, 0)
    if 0 < milliseconds < 1000:
        return f"{milliseconds} ms"
    seconds = milliseconds // 1000
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
