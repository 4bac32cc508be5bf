"""Forms of the on-call pages: a person's contact methods, and an iCal file for the admin's import."""

from django import forms
from django.core.exceptions import ValidationError

from oncall.ical import MAX_BYTES
from oncall.models import ContactMethod

ACT_ON_INCIDENTS = "incidents.acknowledge_incident"


def responder_problem(user) -> str:
    """Why `user` cannot be on call ('' when they can): only people who can act on incidents."""
    if not user.is_active or not user.has_perm(ACT_ON_INCIDENTS):
        return f"{user.get_username()} cannot act on incidents: give them the Responder role first."
    return ""


class ContactMethodForm(forms.ModelForm):
    class Meta:
        model = ContactMethod
        fields = ["email", "slack_member_id", "teams_upn"]
        labels = {"slack_member_id": "Slack member id", "teams_upn": "Teams user (sign-in name)"}

    def clean_slack_member_id(self) -> str:
        return self.cleaned_data["slack_member_id"].strip().upper()

    def clean_teams_upn(self) -> str:
        return self.cleaned_data["teams_upn"].strip()


class IcalImportForm(forms.Form):
    file = forms.FileField(required=False, help_text=f"An .ics file of at most {MAX_BYTES // 1024} KB.")
    text = forms.CharField(required=False, widget=forms.Textarea, label="…or paste it", max_length=MAX_BYTES)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        upload = cleaned.get("file")
        if upload is not None:
            if upload.size > MAX_BYTES:
                raise ValidationError({"file": f"The file is larger than {MAX_BYTES // 1024} KB."})
            try:
                cleaned["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError({"file": "The file is not UTF-8 text."}) from None
        if not cleaned.get("text", "").strip():
            raise ValidationError("Upload an .ics file or paste its text.")
        return cleaned

    def ical_text(self) -> str:
        return self.cleaned_data["text"]
