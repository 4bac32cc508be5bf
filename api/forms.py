"""Input of the API keys page and of the admin's key form, parsed here and checked by api.services.keys (which names
the field of any problem)."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError

from api.models import ApiKey
from api.scopes import SCOPES
from api.services.keys import MAX_EXPIRY_DAYS, api_key_create, scopes_allowed


class ApiKeyCreateForm(forms.Form):
    """A person's own key: its scopes are offered within their role (the service refuses any other)."""

    name = forms.CharField(max_length=100, help_text="What it is for, e.g. 'Jira automation'.")
    scopes = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, help_text="What the key may do.")
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        help_text="Blank: never expires.",
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        kwargs.setdefault("auto_id", "key-%s")
        super().__init__(*args, **kwargs)
        allowed = scopes_allowed(user)
        scopes = self.fields["scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)
        scopes.choices = [(scope, f"{scope}: {SCOPES[scope]}") for scope in allowed]


class ApiKeyAdminForm(forms.ModelForm):
    """An Admin's key for a user (theirs or another's): the key is created while the form is checked, inside the
    admin's transaction, so whatever api_key_create refuses is shown on its field and nothing is saved."""

    scopes = forms.MultipleChoiceField(
        choices=[(scope, f"{scope}: {text}") for scope, text in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        help_text="Within the user's role; a scope beyond it is refused.",
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)", required=False, min_value=1, max_value=MAX_EXPIRY_DAYS, help_text="Blank: never."
    )

    class Meta:
        model = ApiKey
        fields = ["user", "name"]

    def __init__(self, *args, created_by: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.created_by = created_by
        self.created: tuple[ApiKey, str] | None = None
        users = get_user_model().objects.filter(is_active=True).order_by("username")
        if not created_by.is_superuser:
            users = users.filter(is_superuser=False)  # a superuser's keys are created by a superuser
        self.fields["user"].queryset = users  # type: ignore[attr-defined]

    def clean(self) -> dict:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            self.created = api_key_create(
                user=data["user"],
                name=data["name"],
                scopes=data["scopes"],
                created_by=self.created_by,
                expires_in_days=data.get("expires_in_days"),
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        except PermissionDenied as error:
            self.add_error("user", str(error))
        return data
