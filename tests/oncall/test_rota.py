"""Schedule arithmetic (oncall.rota): hand-offs at local wall-clock time across daylight-saving changes, hand-off
boundaries, custom lengths, layers and overlapping overrides."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncall.rota import OverrideRows, Person, RotationRows, ScheduleRows, on_call_at, shifts

BERLIN = ZoneInfo("Europe/Berlin")
ALICE, BOB, CAROL = Person(1, "alice"), Person(2, "bob"), Person(3, "carol")


def _rotation(rid=1, *, length="daily", members=(ALICE, BOB), start=None, layer=1, hours=None, weekday=0, **kw):
    return RotationRows(
        id=rid,
        name=kw.get("name", "Main"),
        layer=layer,
        length=length,
        custom_hours=hours,
        handoff_time=kw.get("handoff", time(9)),
        handoff_weekday=weekday,
        starts_at=start or datetime(2026, 3, 1, 0, 0, tzinfo=BERLIN),
        ends_at=kw.get("ends"),
        members=tuple(members),
    )


def _schedule(*rotations, overrides=(), zone="Europe/Berlin"):
    return ScheduleRows(id=1, name="Primary", time_zone=zone, rotations=tuple(rotations), overrides=tuple(overrides))


def _who(schedule, moment):
    found = on_call_at(schedule, moment)
    return found.person.name if found else None


def test_rota_daily_handoff_boundary_is_exact():
    schedule = _schedule(_rotation())  # alice from 1 March 00:00, bob from 09:00
    assert _who(schedule, datetime(2026, 3, 1, 8, 59, 59, tzinfo=BERLIN)) == "alice"
    assert _who(schedule, datetime(2026, 3, 1, 9, 0, tzinfo=BERLIN)) == "bob"
    assert _who(schedule, datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)) == "alice"
    assert _who(schedule, datetime(2026, 2, 28, 23, 0, tzinfo=BERLIN)) is None  # before the start


def test_rota_daily_handoff_stays_at_nine_local_across_spring_and_autumn_changes():
    schedule = _schedule(_rotation())
    # 29 March 2026: Berlin moves from UTC+1 to UTC+2; 25 October 2026 back.
    spring = shifts(schedule, datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC))
    assert [s.starts_at.astimezone(BERLIN).hour for s in spring[1:]] == [9, 9, 9]
    assert spring[1].ends_at - spring[1].starts_at == timedelta(hours=23)
    autumn = shifts(schedule, datetime(2026, 10, 24, 6, tzinfo=UTC), datetime(2026, 10, 27, tzinfo=UTC))
    assert [s.starts_at.astimezone(BERLIN).hour for s in autumn[1:]] == [9, 9, 9]
    assert autumn[1].ends_at - autumn[1].starts_at == timedelta(hours=25)


def test_rota_handoff_in_the_skipped_hour_happens_when_the_clock_jumps():
    schedule = _schedule(_rotation(handoff=time(2, 30)))
    found = shifts(schedule, datetime(2026, 3, 28, 12, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC))
    jump = [s for s in found if s.starts_at.astimezone(BERLIN).date().day == 29][0]
    assert jump.starts_at == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST, the instant of the jump


def test_rota_weekly_hands_off_on_its_weekday():
    rotation = _rotation(length="weekly", members=(ALICE, BOB, CAROL), weekday=2)  # Wednesdays 09:00
    schedule = _schedule(rotation)
    assert _who(schedule, datetime(2026, 3, 4, 8, 0, tzinfo=BERLIN)) == "alice"  # Wed 4 March before 09:00
    assert _who(schedule, datetime(2026, 3, 4, 9, 0, tzinfo=BERLIN)) == "bob"
    assert _who(schedule, datetime(2026, 3, 11, 9, 0, tzinfo=BERLIN)) == "carol"
    assert _who(schedule, datetime(2026, 3, 18, 9, 0, tzinfo=BERLIN)) == "alice"
    assert _who(schedule, datetime(2026, 4, 1, 9, 0, tzinfo=BERLIN)) == "carol"  # after the spring change


def test_rota_custom_hours_count_elapsed_time():
    start = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    schedule = _schedule(_rotation(length="custom", hours=12, start=start))
    assert _who(schedule, start + timedelta(hours=11, minutes=59)) == "alice"
    assert _who(schedule, start + timedelta(hours=12)) == "bob"
    assert _who(schedule, start + timedelta(hours=24)) == "alice"


def test_rota_override_beats_rotation_and_the_later_starting_override_wins():
    start = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)
    overrides = (
        OverrideRows(1, CAROL, start, start + timedelta(hours=6), "swap"),
        OverrideRows(2, BOB, start + timedelta(hours=2), start + timedelta(hours=3), "doctor"),
    )
    schedule = _schedule(_rotation(), overrides=overrides)
    assert _who(schedule, start - timedelta(minutes=1)) == "alice"
    assert _who(schedule, start) == "carol"
    assert _who(schedule, start + timedelta(hours=2, minutes=30)) == "bob"
    assert _who(schedule, start + timedelta(hours=3)) == "carol"
    assert _who(schedule, start + timedelta(hours=6)) == "alice"
    found = shifts(schedule, start - timedelta(hours=1), start + timedelta(hours=7))
    assert [(s.person.name, s.source) for s in found] == [
        ("alice", "rotation"),
        ("carol", "override"),
        ("bob", "override"),
        ("carol", "override"),
        ("alice", "rotation"),
    ]


def test_rota_higher_layer_wins_and_a_gap_falls_through():
    base = _rotation(1, members=(ALICE,))
    weekend = _rotation(
        2,
        members=(CAROL,),
        layer=2,
        start=datetime(2026, 3, 7, tzinfo=BERLIN),
        ends=datetime(2026, 3, 9, tzinfo=BERLIN),
    )
    schedule = _schedule(base, weekend)
    assert _who(schedule, datetime(2026, 3, 6, 12, tzinfo=BERLIN)) == "alice"
    assert _who(schedule, datetime(2026, 3, 8, 12, tzinfo=BERLIN)) == "carol"
    assert _who(schedule, datetime(2026, 3, 9, 0, tzinfo=BERLIN)) == "alice"


def test_rota_shifts_cover_fourteen_days_without_overlap():
    schedule = _schedule(_rotation())
    start = datetime(2026, 3, 20, 15, tzinfo=UTC)
    found = shifts(schedule, start, start + timedelta(days=14))
    assert found[0].starts_at == start and found[-1].ends_at == start + timedelta(days=14)
    assert all(a.ends_at == b.starts_at and a.person != b.person for a, b in zip(found, found[1:], strict=False))
    assert len(found) == 15


def test_rota_nobody_without_rotations_or_members():
    assert on_call_at(_schedule(_rotation(members=())), datetime(2026, 3, 5, tzinfo=UTC)) is None
    assert shifts(_schedule(), datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 6, tzinfo=UTC)) == []
