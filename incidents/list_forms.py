"""Input of the incident list: its filters (from the query string) and its bulk actions."""

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.choices import CallableChoiceIterator

from aimsweb.choices import ErrorCategory, Severity
from aimsweb.time_range import TimeRangeForm
from incidents.filters import (
    ALL_STATUSES,
    DEFAULT_SORT,
    DEFAULT_STATUS,
    INCIDENT_SORTS,
    AssigneeFilter,
    IncidentFilters,
)
from incidents.forms import SILENCE_HOURS, ActionForm, AssigneeField
from incidents.models import Incident
from incidents.selectors import incident_assignee_choices
from incidents.services.incidents import INCIDENTS_BULK_ACTIONS, INCIDENTS_BULK_MAX, MAX_COMMENT
from monitors.models import Connection, Pipeline


def _is_id(value: str) -> bool:
    """A database id as typed in a URL: ASCII digits, short enough for a bigint."""
    return value.isascii() and value.isdigit() and len(value) <= 18


class PipelineChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.name} ({obj.connection.name})"


class AssigneeFilterField(forms.Field):
    """Whose incidents: "me", "none" (nobody's) or a user's id. Cleans to "me", "none", a user, or "" for anyone."""

    widget = forms.Select
    default_error_messages = {
        "invalid_choice": "Unknown assignee “%(value)s”; use me, none or a person from the list.",
    }

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        # A callable: the people are read only when the select is rendered, not when the list is filtered.
        self.widget.choices = CallableChoiceIterator(self._choices)

    @staticmethod
    def _choices() -> list[tuple]:
        people = [(user.pk, user.get_username()) for user in incident_assignee_choices()]
        return [("", "Anyone"), ("me", "Me"), ("none", "Nobody"), *people]

    def to_python(self, value):
        value = str(value or "").strip()
        if value in ("", "me", "none"):
            return value
        user = get_user_model().objects.filter(pk=int(value)).first() if _is_id(value) else None
        if user is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value})
        return user


def _sort_choices() -> list[tuple[str, str]]:
    choices = []
    for name, sort in INCIDENT_SORTS.items():
        choices += [(f"-{name}", f"{sort.label}, {sort.descending}"), (name, f"{sort.label}, {sort.ascending}")]
    return choices


class PageNumberField(forms.Field):
    """A page number as typed in a URL; blank is the first page. Not drawn on the filter form: page links set it."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": "give a page number; showing the first page."}

    def to_python(self, value) -> int:
        try:
            return int(value or 1)
        except (TypeError, ValueError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class IncidentFilterForm(TimeRangeForm):
    """The incident list's filters, as the query string gives them. Every field is optional (blank: the default);
    the list leaves an invalid one out and shows its message."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Title or error text"}),
        error_messages={"max_length": "At most %(limit_value)d characters (%(show_value)d given)."},
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[(DEFAULT_STATUS, "Open (not resolved)"), *Incident.Status.choices, (ALL_STATUSES, "All")],
        error_messages={
            "invalid_choice": "Unknown status “%(value)s”; use open, triggered, acknowledged, silenced, resolved "
            "or all."
        },
    )
    severity = forms.MultipleChoiceField(
        label="Severity",
        required=False,
        choices=Severity.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": f"Unknown severity “%(value)s”; use {', '.join(Severity.values)}."},
    )
    category = forms.MultipleChoiceField(
        label="Error class",
        required=False,
        choices=ErrorCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": f"Unknown error class “%(value)s”; use {', '.join(ErrorCategory.values)}."},
    )
    connection = forms.ModelChoiceField(
        label="Connection",
        required=False,
        queryset=Connection.objects.order_by("name"),
        empty_label="Any",
        error_messages={"invalid_choice": "No connection with id “%(value)s”; choose one from the list."},
    )
    pipeline = PipelineChoiceField(
        label="Pipeline",
        required=False,
        queryset=Pipeline.objects.select_related("connection").order_by("name", "connection__name"),
        empty_label="Any",
        error_messages={"invalid_choice": "No pipeline with id “%(value)s”; choose one from the list."},
    )
    assignee = AssigneeFilterField(label="Assignee", required=False)
    sort = forms.ChoiceField(
        label="Sort",
        required=False,
        choices=_sort_choices(),
        error_messages={
            "invalid_choice": f"Unknown sort “%(value)s”; use one of {', '.join(INCIDENT_SORTS)}, with a leading "
            "- for descending."
        },
    )
    page = PageNumberField(label="Page", required=False)

    def filters(self) -> IncidentFilters:
        """The filters of a validated form: its valid fields, each invalid or blank one left at its default."""
        data = self.cleaned_data
        assignee: AssigneeFilter | User = data.get("assignee") or ""
        return IncidentFilters(
            status=data.get("status") or DEFAULT_STATUS,
            severities=tuple(data.get("severity") or ()),
            categories=tuple(data.get("category") or ()),
            connection_id=data["connection"].pk if data.get("connection") else None,
            pipeline_id=data["pipeline"].pk if data.get("pipeline") else None,
            assignee=assignee.pk if isinstance(assignee, User) else assignee,
            text=data.get("q") or "",
            time_range=self.time_range(),
            sort=data.get("sort") or DEFAULT_SORT,
            page=data.get("page") or 1,
        )


class IncidentIdsField(forms.Field):
    """Incident ids, one value each (checkboxes named ids); at most `max_count`, repeats counted once."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": "Select at least one incident.",
        "invalid": "“%(value)s” is not an incident number.",
        "too_many": "Select at most %(limit)d incidents at a time (%(count)d sent).",
    }

    def __init__(self, *, max_count: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.max_count = max_count

    def to_python(self, value) -> list[int]:
        values = [value] if isinstance(value, str) else list(value or [])
        if len(values) > self.max_count:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": self.max_count, "count": len(values)}
            )
        ids = []
        for raw in values:
            raw = str(raw).strip()
            if not _is_id(raw):
                raise ValidationError(self.error_messages["invalid"], code="invalid", params={"value": raw[:20]})
            ids.append(int(raw))
        return list(dict.fromkeys(ids))


BULK_SCOPE_SELECTED = "selected"
BULK_SCOPE_MATCHING = "matching"


class IncidentBulkForm(ActionForm):
    """Act on the incidents ticked on the list, or on every incident its filters match (`scope`); `next` is the list
    (with its filters) to go back to. Each action's own fields are checked only for that action."""

    action = forms.ChoiceField(
        label="Action",
        choices=[(action, action.capitalize()) for action in INCIDENTS_BULK_ACTIONS],
        error_messages={
            "required": f"Choose one of {', '.join(INCIDENTS_BULK_ACTIONS)}.",
            "invalid_choice": f"Unknown action “%(value)s”; use one of {', '.join(INCIDENTS_BULK_ACTIONS)}.",
        },
    )
    scope = forms.ChoiceField(
        label="Apply to",
        required=False,
        choices=[(BULK_SCOPE_SELECTED, "The selected incidents"), (BULK_SCOPE_MATCHING, "Every matching incident")],
        error_messages={"invalid_choice": "Unknown scope “%(value)s”; use selected or matching."},
    )
    ids = IncidentIdsField(label="Selected incidents (ids)", max_count=INCIDENTS_BULK_MAX, required=False)
    duration = forms.ChoiceField(
        label="Silence for",
        required=False,
        choices=[(hours, f"{hours} hour{'s' if hours != '1' else ''}") for hours in SILENCE_HOURS],
        error_messages={"invalid_choice": "Silence for 1, 4 or 24 hours."},
    )
    reason = forms.CharField(label="Reason", required=False, max_length=500)
    assignee = AssigneeField(
        label="Assign to",
        queryset=None,
        required=False,
        empty_label="Nobody",
        error_messages={"invalid_choice": "Choose someone with the Responder or Admin role."},
    )
    text = forms.CharField(
        label="Comment",
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "A comment for each incident"}),
    )
    next = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, AssigneeField)
        assignee.queryset = incident_assignee_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        data["scope"] = data.get("scope") or BULK_SCOPE_SELECTED
        if data["scope"] == BULK_SCOPE_SELECTED and not data.get("ids") and "ids" not in self.errors:
            self.add_error("ids", "Select at least one incident.")
        action = data.get("action")
        if action == "silence":
            duration = data.get("duration") or ""
            if duration not in SILENCE_HOURS:
                if "duration" not in self.errors:
                    self.add_error("duration", "Say for how long: 1, 4 or 24 hours.")
            else:
                data["until"] = timezone.now() + timedelta(hours=SILENCE_HOURS[duration])
        elif action == "comment" and not (data.get("text") or "").strip() and "text" not in self.errors:
            self.add_error("text", "Write a comment.")
        return data
