"""Input of the incident page's actions: parsed and checked here, applied by the services."""

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone

from aimsweb.headline import HEADLINE_MAX
from incidents.selectors import incident_assignee_choices
from incidents.services.incidents import MAX_COMMENT

SILENCE_HOURS = {"1": 1, "4": 4, "24": 24}


class ActionForm(forms.Form):
    """Labels sit above their fields, so without the trailing colon."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ResolveForm(ActionForm):
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "What fixed it (optional)"}),
    )


class AssigneeField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_username()


class AssignForm(ActionForm):
    assignee = AssigneeField(
        label="Assignee",
        queryset=None,
        required=False,
        empty_label="Nobody",
        error_messages={"invalid_choice": "Choose someone with the Responder or Admin role."},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, AssigneeField)
        assignee.queryset = incident_assignee_choices()


class CommentForm(ActionForm):
    text = forms.CharField(
        label="Comment",
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What you found or did"}),
        error_messages={"required": "Write a comment."},
    )


class TitleForm(ActionForm):
    """A Responder's own words for the incident: one line a person reads in the list."""

    title = forms.CharField(
        label="Title",
        max_length=HEADLINE_MAX,
        widget=forms.TextInput(attrs={"maxlength": HEADLINE_MAX, "size": 60}),
        error_messages={
            "required": "Give a title.",
            "max_length": f"At most {HEADLINE_MAX} characters (%(show_value)d given).",
        },
    )


class SilenceForm(ActionForm):
    duration = forms.ChoiceField(
        label="For",
        choices=[("1", "1 hour"), ("4", "4 hours"), ("24", "24 hours"), ("custom", "Until…")],
        initial="1",
    )
    until = forms.DateTimeField(
        label="Until",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Only with “Until…”.",
    )
    reason = forms.CharField(label="Reason", required=False, max_length=500)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        duration = data.get("duration")
        if duration in SILENCE_HOURS:
            data["until"] = timezone.now() + timedelta(hours=SILENCE_HOURS[duration])
        elif duration == "custom" and data.get("until") is None and "until" not in self.errors:
            self.add_error("until", "Give the time the silence ends.")
        return data


class TicketForm(ActionForm):
    system = forms.CharField(label="System", max_length=50, widget=forms.TextInput(attrs={"placeholder": "Jira"}))
    key = forms.CharField(label="Key", max_length=100, widget=forms.TextInput(attrs={"placeholder": "OPS-123"}))
    url = forms.URLField(
        label="Link",
        required=False,
        max_length=500,
        assume_scheme="https",
        error_messages={"invalid": "Give a full http(s) link, or leave it blank."},
    )


class RetryForm(ActionForm):
    """The token is drawn when the page is rendered: posting the same form twice asks for one retry."""

    request_key = forms.CharField(
        label="Request token",
        min_length=16,
        max_length=64,
        validators=[RegexValidator(r"^[A-Za-z0-9_-]+$", "Reload the page and try again.")],
        error_messages={"required": "Reload the page and try again."},
    )
    # Exactly "yes" (what "Retry anyway" sends) confirms; anything else asks again.
    confirm = forms.CharField(label="Retry anyway", required=False, max_length=10)

    def clean_confirm(self) -> bool:
        return self.cleaned_data.get("confirm") == "yes"


class RetryCancelForm(ActionForm):
    attempt = forms.IntegerField(
        label="Retry",
        min_value=1,
        max_value=2**63 - 1,
        error_messages={"required": "Say which retry to cancel.", "invalid": "Say which retry to cancel."},
    )


def form_errors_add(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has one, else as a general error."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def form_problems(form: forms.Form) -> list[str]:
    """Each error of a bound form as one line that names its field, for the page's error banner."""
    problems: list[str] = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        problems.extend(f"{label}: {message}" if label else str(message) for message in errors)
    return problems
