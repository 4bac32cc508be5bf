"""Input of the incident page's merge and split actions."""

from django import forms

from incidents.services.incidents import MAX_COMMENT

MAX_ID = 2_147_483_647  # the largest id a row can have


class MergeIntoForm(forms.Form):
    into = forms.IntegerField(
        label="Merge into incident #",
        min_value=1,
        max_value=MAX_ID,
        error_messages={"required": "Give the number of the open incident to merge this one into."},
    )
    note = forms.CharField(label="Note", required=False, max_length=MAX_COMMENT)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class SplitForm(forms.Form):
    pipeline = forms.IntegerField(
        label="Pipeline", min_value=1, max_value=MAX_ID, error_messages={"required": "Name the pipeline."}
    )
    note = forms.CharField(required=False, max_length=MAX_COMMENT)
