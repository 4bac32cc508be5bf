"""The time range of the list pages (incidents, runs): the last hour, day or week, or a custom from–to, as the
query string gives it (`period`, `since`, `until`), checked here for every list alike."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}
CUSTOM = "custom"
MAX_SPAN = timedelta(days=90)
DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


@dataclass(frozen=True)
class TimeRange:
    """From `since` to `until` (either open when None); `period` is how it was asked ("1h", ..., "custom")."""

    period: str = ""
    since: datetime | None = None
    until: datetime | None = None

    @property
    def bounded(self) -> bool:
        return self.since is not None or self.until is not None

    def params(self) -> dict[str, object]:
        """The range as query-string values (what makes the same link again)."""
        if self.period in PERIODS:
            return {"period": self.period, "since": None, "until": None}
        if self.period == CUSTOM:
            return {
                "period": CUSTOM,
                "since": _as_param(self.since),
                "until": _as_param(self.until),
            }
        return {"period": None, "since": None, "until": None}


def _as_param(moment: datetime | None) -> str | None:
    return timezone.localtime(moment).strftime(DATETIME_FORMAT) if moment else None


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format=DATETIME_FORMAT, **kwargs)


class TimeRangeForm(forms.Form):
    """The fields of a time range; a list's filter form inherits them. An invalid range is reported on its field
    and the list shows every time instead."""

    period = forms.ChoiceField(
        label="Time",
        required=False,
        choices=[
            ("", "Any time"),
            ("1h", "Last hour"),
            ("24h", "Last 24 hours"),
            ("7d", "Last 7 days"),
            (CUSTOM, "Custom…"),
        ],
        error_messages={"invalid_choice": "Unknown time range “%(value)s”; use 1h, 24h, 7d or custom."},
    )
    since = forms.DateTimeField(
        label="From",
        required=False,
        widget=DateTimeLocalInput(),
        error_messages={"invalid": "Give a date and time such as 2026-12-07T09:30."},
    )
    until = forms.DateTimeField(
        label="To",
        required=False,
        widget=DateTimeLocalInput(),
        error_messages={"invalid": "Give a date and time such as 2026-12-07T18:00."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        period = data.get("period") or ""
        since, until = data.get("since"), data.get("until")
        if period in PERIODS:
            data["time_range"] = TimeRange(period=period, since=timezone.now() - PERIODS[period])
            return data
        if not (since or until) or "since" in self.errors or "until" in self.errors:
            # "Custom…" just chosen (the list refreshes on change): no range yet, and no error before any is typed.
            data["time_range"] = TimeRange(period=CUSTOM if period == CUSTOM else "")
            return data
        if since and until and since >= until:
            self.add_error("until", "The end must come after the start.")
        elif since and until and until - since > MAX_SPAN:
            self.add_error("until", f"A range spans at most {MAX_SPAN.days} days; use a shorter one.")
        elif since and since > timezone.now():
            self.add_error("since", "The start is in the future; nothing happened yet.")
        else:
            data["time_range"] = TimeRange(period=CUSTOM, since=since, until=until)
            return data
        data["time_range"] = TimeRange()
        return data

    def time_range(self) -> TimeRange:
        """The valid range of a checked form (every time when none or invalid)."""
        return getattr(self, "cleaned_data", {}).get("time_range") or TimeRange()


QUICK_PERIODS = (("1h", "1 h"), ("24h", "24 h"), ("7d", "7 d"))


def period_chips(current: TimeRange, link: Callable[..., str]) -> list[dict[str, Any]]:
    """One-click ranges for a list: each a link (built by `link(**changes)`, which keeps the other filters) that
    sets the range, or clears it when it is the one shown."""
    chips = []
    for period, label in QUICK_PERIODS:
        active = current.period == period
        chips.append(
            {
                "label": label,
                "url": link(period=None if active else period, since=None, until=None, page=None),
                "active": active,
            }
        )
    return chips
