"""Expected start times of platform schedules, and the Quartz and ADF recurrence translations to cron."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from monitors.clients.base import PlatformSchedule
from monitors.schedule_times import expected_starts, quartz_to_cron, recurrence_to_cron

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


BASE = PlatformSchedule(
    pipeline_external_id="pl_daily_sales",
    pipeline_name="pl_daily_sales",
    source="adf_trigger",
    name="tr_daily",
    active=True,
    cron=None,
    every=None,
    anchor=None,
    timezone="UTC",
)


def _schedule(**fields: Any) -> PlatformSchedule:
    return replace(BASE, **fields)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_expected_starts_daily_cron_across_spring_dst_keeps_local_hour():
    schedule = _schedule(cron="0 6 * * *", timezone="Europe/Amsterdam")

    starts = expected_starts(schedule, start=_utc(2025, 3, 29), end=_utc(2025, 3, 31))

    assert starts == [_utc(2025, 3, 29, 5), _utc(2025, 3, 30, 4)]
    assert all(start.tzinfo is UTC for start in starts)


def test_expected_starts_time_skipped_by_spring_dst_is_expected_just_after_the_change():
    schedule = _schedule(cron="30 2 * * *", timezone="Europe/Amsterdam")

    starts = expected_starts(schedule, start=_utc(2025, 3, 30), end=_utc(2025, 3, 31))

    assert starts == [_utc(2025, 3, 30, 1)]  # 03:00 CEST, the first minute after 02:00 CET jumped to 03:00


def test_expected_starts_time_repeated_by_autumn_dst_is_expected_once():
    schedule = _schedule(cron="30 2 * * *", timezone="Europe/Amsterdam")

    starts = expected_starts(schedule, start=_utc(2025, 10, 25, 12), end=_utc(2025, 10, 26, 12))

    assert starts == [_utc(2025, 10, 26, 0, 30)]  # 02:30 CEST; the 02:30 CET an hour later is not a second run


def test_expected_starts_half_hourly_cron_runs_in_both_repeated_hours():
    schedule = _schedule(cron="*/30 * * * *", timezone="Europe/Amsterdam")

    starts = expected_starts(schedule, start=_utc(2025, 10, 26, 0), end=_utc(2025, 10, 26, 2))

    assert len(starts) == 4 and len(set(starts)) == 4


def test_expected_starts_fifteen_minute_interval_from_anchor():
    schedule = _schedule(every=timedelta(minutes=15), anchor=_utc(2025, 3, 14, 0, 7, 30))

    starts = expected_starts(schedule, start=_utc(2025, 3, 14, 1), end=_utc(2025, 3, 14, 2))

    assert starts == [_utc(2025, 3, 14, 1, 7, 30) + timedelta(minutes=15 * k) for k in range(4)]


def test_expected_starts_window_is_half_open_and_includes_its_start():
    schedule = _schedule(every=timedelta(minutes=15), anchor=_utc(2025, 3, 14))

    starts = expected_starts(schedule, start=_utc(2025, 3, 14, 1), end=_utc(2025, 3, 14, 1, 30))

    assert starts == [_utc(2025, 3, 14, 1), _utc(2025, 3, 14, 1, 15)]


def test_expected_starts_inactive_schedule_expects_nothing():
    schedule = _schedule(cron="0 6 * * *", active=False)

    assert expected_starts(schedule, start=_utc(2025, 3, 1), end=_utc(2025, 4, 1)) == []


def test_expected_starts_before_anchor_and_after_end_are_not_expected():
    schedule = _schedule(cron="0 6 * * *", anchor=_utc(2025, 3, 3, 12), ends=_utc(2025, 3, 6))

    starts = expected_starts(schedule, start=_utc(2025, 3, 1), end=_utc(2025, 3, 10))

    assert starts == [_utc(2025, 3, 4, 6), _utc(2025, 3, 5, 6)]


def test_expected_starts_naive_window_raises():
    with pytest.raises(ValueError, match="timezone-aware"):
        expected_starts(_schedule(cron="0 6 * * *"), start=datetime(2025, 3, 1), end=_utc(2025, 3, 2))


def test_expected_starts_interval_without_anchor_raises_naming_schedule():
    with pytest.raises(ValueError, match="tr_daily"):
        expected_starts(_schedule(every=timedelta(hours=1)), start=_utc(2025, 3, 1), end=_utc(2025, 3, 2))


def test_recurrence_to_cron_weekly_monday_wednesday_runs_on_those_days():
    start = datetime(2024, 1, 1, tzinfo=AMSTERDAM)
    cron = recurrence_to_cron(
        frequency="Week",
        interval=1,
        start=start,
        schedule={"hours": [2], "minutes": [30], "weekDays": ["Wednesday", "Monday"]},
    )
    schedule = _schedule(cron=cron, timezone="Europe/Amsterdam")

    starts = expected_starts(schedule, start=_utc(2025, 3, 10), end=_utc(2025, 3, 24))

    assert cron == "30 2 * * 1,3"
    assert [s.astimezone(AMSTERDAM).strftime("%a %d %H:%M") for s in starts] == [
        "Mon 10 02:30",
        "Wed 12 02:30",
        "Mon 17 02:30",
        "Wed 19 02:30",
    ]


def test_recurrence_to_cron_month_day_minus_one_is_the_last_day():
    cron = recurrence_to_cron(
        frequency="Month", interval=1, start=_utc(2025, 1, 1), schedule={"monthDays": [-1], "hours": [23]}
    )

    starts = expected_starts(_schedule(cron=cron), start=_utc(2025, 1, 15), end=_utc(2025, 4, 15))

    assert cron == "0 23 L * *"
    assert [s.date().isoformat() for s in starts] == ["2025-01-31", "2025-02-28", "2025-03-31"]


def test_recurrence_to_cron_daily_without_block_uses_start_time_of_day():
    start = datetime(2024, 5, 2, 4, 45, tzinfo=AMSTERDAM)

    assert recurrence_to_cron(frequency="Day", interval=1, start=start) == "45 4 * * *"


def test_recurrence_to_cron_hourly_block_defaults_to_every_hour():
    cron = recurrence_to_cron(frequency="Hour", interval=1, start=_utc(2024, 1, 1), schedule={"minutes": [0, 30]})

    assert cron == "0,30 * * * *"


@pytest.mark.parametrize(
    ("frequency", "interval", "block", "message"),
    [
        ("Week", 2, {"weekDays": ["Monday"]}, "every 2 weeks"),
        ("Month", 1, {"monthDays": [-2]}, "monthDays -2"),
        ("Week", 1, {"weekDays": ["Funday"]}, "Funday"),
        ("Month", 5, None, "every 5 months"),
        ("Minute", 15, None, "fixed interval"),
        ("Year", 1, None, "frequency 'Year'"),
    ],
)
def test_recurrence_to_cron_unsupported_recurrence_raises_clear_message(frequency, interval, block, message):
    with pytest.raises(ValueError, match=message):
        recurrence_to_cron(frequency=frequency, interval=interval, start=_utc(2024, 1, 1), schedule=block)


@pytest.mark.parametrize(
    ("quartz", "cron"),
    [
        ("0 0/5 * * * ?", "0/5 * * * *"),
        ("24 4/5 * * * ?", "4/5 * * * *"),
        ("0 30 2 ? * 2-6", "30 2 * * 1-5"),
        ("0 0 9 ? * MON,WED", "0 9 * * 1,3"),
        ("0 0 9 ? * 6#3", "0 9 * * 5#3"),
        ("0 15 10 L * ?", "15 10 L * *"),
        ("0 0 12 1 * ? *", "0 12 1 * *"),
        ("0 0 8 ? * 1", "0 8 * * 0"),
    ],
)
def test_quartz_to_cron_supported_expression_translates(quartz, cron):
    assert quartz_to_cron(quartz) == cron


@pytest.mark.parametrize(
    ("quartz", "field"),
    [
        ("0 0 12 1 * ? 2026", "year"),
        ("0 0 12 LW * ?", "day of month"),
        ("0 0 12 L-3 * ?", "day of month"),
        ("0 0 12 ? * 6L", "day of week"),
        ("0/30 * * * * ?", "seconds"),
        ("0 0 12 * *", "5 fields"),
        ("0 0 12 ? * 8", "day of week"),
    ],
)
def test_quartz_to_cron_unsupported_expression_raises_naming_field(quartz, field):
    with pytest.raises(ValueError, match=field):
        quartz_to_cron(quartz)


def test_quartz_to_cron_weekday_schedule_expects_weekdays_only():
    cron = quartz_to_cron("0 0 2 ? * MON-FRI")

    starts = expected_starts(_schedule(cron=cron), start=_utc(2025, 3, 14), end=_utc(2025, 3, 21))

    assert [s.strftime("%a") for s in starts] == ["Fri", "Mon", "Tue", "Wed", "Thu"]
