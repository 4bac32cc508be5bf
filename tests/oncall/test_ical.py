"""iCal import: events naming a Responder become overrides (repeating ones expanded to the horizon), everything else
is an error naming the line or event, and nothing is half-imported."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from aimsweb.roles import Role
from oncall.ical import MAX_BYTES, IcalImportError
from oncall.models import Override
from oncall.services import schedule_ical_import
from tests.oncall.factories import make_contact, make_schedule

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _calendar(*events: str) -> str:
    return "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *events, "END:VCALENDAR", ""])


def _event(uid: str, start: str, end: str, *, summary: str = "", attendee: str = "", rrule: str = "") -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", f"DTSTART:{start}", f"DTEND:{end}"]
    lines += [f"SUMMARY:{summary}"] if summary else []
    lines += [f"ATTENDEE:mailto:{attendee}"] if attendee else []
    lines += [f"RRULE:{rrule}"] if rrule else []
    return "\r\n".join([*lines, "END:VEVENT"])


@pytest.fixture
def people(make_user):
    alice = make_user("alice", Role.RESPONDER)
    make_contact(alice, email="alice@example.com")
    return {"alice": alice, "bob": make_user("bob", Role.RESPONDER), "vera": make_user("viv", Role.VIEWER)}


@pytest.mark.django_db
def test_ical_import_turns_events_into_overrides_expanding_repeats(people):
    schedule = make_schedule()
    text = _calendar(
        _event("a1", "20261202T090000Z", "20261202T170000Z", summary="On call", attendee="alice@example.com"),
        _event("b1", "20261203T090000Z", "20261203T210000Z", summary="On call: bob", rrule="FREQ=WEEKLY;COUNT=3"),
    )
    assert schedule_ical_import(schedule=schedule, text=text, now=NOW) == 4
    rows = list(Override.objects.order_by("starts_at").values_list("user__username", "starts_at", "source_uid"))
    assert [(user, start.day) for user, start, _ in rows] == [("alice", 2), ("bob", 3), ("bob", 10), ("bob", 17)]


@pytest.mark.django_db
def test_ical_import_again_replaces_the_imported_overrides_only(people):
    schedule = make_schedule()
    Override.objects.create(
        schedule=schedule, user=people["bob"], starts_at=NOW, ends_at=NOW.replace(hour=13), reason="by hand"
    )
    text = _calendar(_event("a1", "20261202T090000Z", "20261202T170000Z", attendee="alice@example.com"))
    schedule_ical_import(schedule=schedule, text=text, now=NOW)
    schedule_ical_import(schedule=schedule, text=text, now=NOW)
    assert sorted(Override.objects.values_list("user__username", flat=True)) == ["alice", "bob"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_calendar("this is not ical"), "Line 4"),
        (_calendar(_event("x", "20261202T090000Z", "20261202T170000Z", summary="mallory")), "'mallory' (line 4)"),
        (_calendar(_event("x", "20261202T090000Z", "20261202T080000Z", summary="alice")), "end must be after"),
        (_calendar(_event("x", "2026-12-02", "20261202T170000Z", summary="alice")), "line 4"),
        (_calendar(_event("x", "20261202T090000Z", "20261202T170000Z", summary="viv")), "Responder role"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n", "Not a readable"),
        ("X" * (MAX_BYTES + 1), "larger than"),
        (
            _calendar(_event("x", "20261202T090000Z", "20261202T100000Z", summary="alice", rrule="FREQ=MINUTELY")),
            "more than",
        ),
    ],
)
@pytest.mark.django_db
def test_ical_import_hostile_file_is_refused_naming_the_problem_and_changes_nothing(people, text, message):
    schedule = make_schedule()
    good = _calendar(_event("a1", "20261202T090000Z", "20261202T170000Z", attendee="alice@example.com"))
    schedule_ical_import(schedule=schedule, text=good, now=NOW)
    with pytest.raises(IcalImportError) as caught:
        schedule_ical_import(schedule=schedule, text=text, now=NOW)
    assert message in str(caught.value)
    assert list(Override.objects.values_list("source_uid", flat=True)) == ["a1"]


@pytest.mark.django_db
def test_ical_import_command_imports_and_reports_errors(people, tmp_path, capsys):
    schedule = make_schedule()
    day = (timezone.now() + timedelta(days=1)).strftime("%Y%m%d")
    good = tmp_path / "good.ics"
    good.write_text(_calendar(_event("a1", f"{day}T090000Z", f"{day}T170000Z", attendee="alice@example.com")))
    call_command("oncall_import", schedule.name, str(good))
    assert "Imported 1 override(s) into Primary" in capsys.readouterr().out
    bad = tmp_path / "bad.ics"
    bad.write_text(_calendar(_event("x", "20361202T090000Z", "20361202T170000Z", summary="mallory")))
    with pytest.raises(CommandError, match="mallory"):
        call_command("oncall_import", schedule.name, str(bad))
    with pytest.raises(CommandError, match="No schedule"):
        call_command("oncall_import", "Nope", str(good))
    assert Override.objects.count() == 1


@pytest.mark.django_db
def test_ical_import_admin_page_uploads_or_explains_the_error(admin_client_, people):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    schedule = make_schedule()
    url = reverse("admin:oncall_schedule_import", args=[schedule.pk])
    assert admin_client_.get(url).status_code == 200
    day = (timezone.now() + timedelta(days=1)).strftime("%Y%m%d")
    good = _calendar(_event("a1", f"{day}T090000Z", f"{day}T170000Z", attendee="alice@example.com"))
    response = admin_client_.post(url, {"file": SimpleUploadedFile("shifts.ics", good.encode())})
    assert response.status_code == 302 and Override.objects.count() == 1
    hostile = _calendar(_event("x", f"{day}T090000Z", f"{day}T170000Z", summary="<script>alert(1)</script>"))
    response = admin_client_.post(url, {"text": hostile})
    assert response.status_code == 400
    assert b"names nobody who can be on call" in response.content and b"<script>alert" not in response.content
    assert Override.objects.count() == 1


@pytest.mark.django_db
def test_ical_import_admin_page_is_refused_to_a_viewer(viewer_client, people):
    from django.urls import reverse

    schedule = make_schedule()
    day = (timezone.now() + timedelta(days=1)).strftime("%Y%m%d")
    text = _calendar(_event("a1", f"{day}T090000Z", f"{day}T170000Z", attendee="alice@example.com"))
    response = viewer_client.post(reverse("admin:oncall_schedule_import", args=[schedule.pk]), {"text": text})
    assert response.status_code in (302, 403)  # the admin turns away non-staff (how is the admin's to say)
    assert not Override.objects.exists()
