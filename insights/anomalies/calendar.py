"""Calendar facts the detector needs: last business day of a month, US and UK public holidays, DST change days.

Operations data follows the business calendar: loads fall to weekend level on public holidays, month-end close runs
on the last business day, and a local business-hours curve moves by one UTC hour when daylight saving time changes.
"""

from datetime import date, timedelta
from functools import cache


def last_business_day(day: date) -> bool:
    """Whether `day` is the last Monday-to-Friday of its month."""
    if day.weekday() >= 5:
        return False
    following = day + timedelta(days=1)
    while following.weekday() >= 5:
        following += timedelta(days=1)
    return following.month != day.month


def public_holiday(day: date) -> bool:
    """Whether `day` is a public holiday (or its observed weekday) in the United States or the United Kingdom."""
    return day in _holidays(day.year)


def dst_change_days(year: int) -> frozenset[date]:
    """The Sundays on which the EU (last Sunday of March and October) and the US (second Sunday of March, first
    Sunday of November) change clocks."""
    return frozenset(
        {
            _last_weekday(year, 3, 6),
            _last_weekday(year, 10, 6),
            _nth_weekday(year, 3, 6, 2),
            _nth_weekday(year, 11, 6, 1),
        }
    )


@cache
def _holidays(year: int) -> frozenset[date]:
    easter = _easter(year)
    us = {
        _observed_us(date(year, 1, 1)),
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Presidents' Day
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed_us(date(year, 6, 19)),
        _observed_us(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _observed_us(date(year, 11, 11)),
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed_us(date(year, 12, 25)),
    }
    uk = {
        _observed_uk(date(year, 1, 1)),
        easter - timedelta(days=2),  # Good Friday
        easter + timedelta(days=1),  # Easter Monday
        _nth_weekday(year, 5, 0, 1),  # Early May bank holiday
        _last_weekday(year, 5, 0),  # Spring bank holiday
        _last_weekday(year, 8, 0),  # Summer bank holiday
        *_christmas_uk(year),
    }
    return frozenset(us | uk)


def _observed_us(day: date) -> date:
    # A holiday on Saturday is observed on Friday, on Sunday on Monday.
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def _observed_uk(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _christmas_uk(year: int) -> set[date]:
    # Christmas and Boxing Day falling on a weekend move to the next free weekdays.
    christmas, boxing = date(year, 12, 25), date(year, 12, 26)
    days: set[date] = set()
    for day in (christmas, boxing):
        while day.weekday() >= 5 or day in days:
            day += timedelta(days=1)
        days.add(day)
    return days


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    # The anonymous Gregorian computus (Meeus/Jones/Butcher).
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month = (h + l_ - 7 * m + 114) // 31
    day = (h + l_ - 7 * m + 114) % 31 + 1
    return date(year, month, day)
