"""manage.py oncall_import SCHEDULE FILE: replace a schedule's imported overrides with an iCal file's shifts."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from oncall.ical import MAX_BYTES, IcalImportError
from oncall.models import Schedule
from oncall.services import schedule_ical_import


class Command(BaseCommand):
    help = "Import an iCal (.ics) file into a schedule (by name or id): all or nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("schedule", help="The schedule's name or id.")
        parser.add_argument("file", type=Path, help="The .ics file.")

    def handle(self, *args, schedule: str, file: Path, **options) -> None:
        found = Schedule.objects.filter(name=schedule).first()
        if found is None and schedule.isdigit():
            found = Schedule.objects.filter(pk=int(schedule)).first()
        if found is None:
            raise CommandError(f"No schedule named {schedule!r}.")
        try:
            if file.stat().st_size > MAX_BYTES:
                raise CommandError(f"{file}: larger than {MAX_BYTES // 1024} KB.")
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{file}: cannot be read ({exc.__class__.__name__}).") from None
        try:
            count = schedule_ical_import(schedule=found, text=text)
        except IcalImportError as exc:
            raise CommandError(f"{file}: {exc}") from None
        self.stdout.write(f"Imported {count} override(s) into {found}.")
