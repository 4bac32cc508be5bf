"""Input of the series page: a person's note on a stretch of the series, parsed here and checked and applied by
insights.services.notes (which names the field of any problem)."""

from django import forms

from insights.models import SeriesNote
from insights.services.notes import MAX_NOTE

DATETIME_LOCAL = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SeriesNoteForm(forms.Form):
    kind = forms.ChoiceField(
        label="What it was",
        choices=[
            (SeriesNote.Kind.EXPECTED, "Mark as expected (normal: learn from it)"),
            (SeriesNote.Kind.EXCLUDED, "Exclude this period (ignore it: an outage, a backfill)"),
        ],
        initial=SeriesNote.Kind.EXPECTED,
    )
    # Not required here: the service says what is missing, in the same words wherever it is called from.
    start = forms.DateTimeField(label="From", required=False, widget=DATETIME_LOCAL)
    end = forms.DateTimeField(label="To", required=False, widget=DATETIME_LOCAL)
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why (kept with the note)"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "note-%s")
        super().__init__(*args, **kwargs)
