"""Durations in words, the same on every page, message and notification."""

from datetime import timedelta

# Each unit and how many of it make the next one up.
_UNITS = (("s", 60), ("min", 60), ("h", 24), ("d", None))


def duration_text(delta: timedelta | None) -> str:
    """A duration for people, in its two largest units, truncated: 850 ms, 42 s, 3 min 37 s, 3 min, 2 h 5 min,
    2 d 3 h; '—' when there is none. A negative one (clocks apart) is 0 s."""
    if delta is None:
        return "—"
    milliseconds = max(delta // timedelta(milliseconds=1), 0)
    if 0 < milliseconds < 1000:
        return f"{milliseconds} ms"
    amounts: list[int] = []
    rest = milliseconds // 1000
    for _, per_next in _UNITS:
        if per_next is None:
            amounts.append(rest)
            break
        rest, amount = divmod(rest, per_next)
        amounts.append(amount)
        if not rest:
            break
    largest = len(amounts) - 1
    text = f"{amounts[largest]} {_UNITS[largest][0]}"
    if largest and amounts[largest - 1]:
        text += f" {amounts[largest - 1]} {_UNITS[largest - 1][0]}"
    return text
