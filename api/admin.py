"""API keys in the admin: Admins list every key, create one for a user (shown once, on the page after saving) and
revoke keys. The digest is never shown; a created key cannot be edited, only revoked or deleted."""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from api.forms import ApiKeyAdminForm
from api.models import ApiKey
from api.services.keys import api_key_revoke

SHOWN_FIELDS = [
    "user",
    "name",
    "prefix",
    "scopes",
    "created_by",
    "created_at",
    "last_used_at",
    "expires_at",
    "revoked_at",
]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scope_list", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]
    form = ApiKeyAdminForm

    @admin.display(description="Scopes")
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes)

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None):
        if obj is None:
            return ["user", "name", "scopes", "expires_in_days"]
        return SHOWN_FIELDS

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None):
        return SHOWN_FIELDS if obj is not None else []

    def get_form(self, request: HttpRequest, obj: ApiKey | None = None, change: bool = False, **kwargs):
        if obj is not None:  # every field read-only: nothing of a created key is edited
            return super().get_form(request, obj, change=change, form=forms.ModelForm, **kwargs)
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class CreatedBy(form_class):  # type: ignore[misc, valid-type]  # the admin's generated form, bound to the Admin
            def __init__(self, *args, **form_kwargs) -> None:
                super().__init__(*args, created_by=request.user, **form_kwargs)

        return CreatedBy

    def save_form(self, request: HttpRequest, form, change: bool):
        if change:
            return super().save_form(request, form, change)
        key, plaintext = form.created  # created by api_key_create while the form was checked
        request._aims_plaintext = plaintext  # type: ignore[attr-defined]  # for response_add, this request only
        return key

    def save_model(self, request: HttpRequest, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        if change:
            super().save_related(request, form, formsets, change)

    def response_add(self, request: HttpRequest, obj: ApiKey, post_url_continue=None) -> HttpResponse:
        """The new key, shown on this page only (never in a message, a redirect or the log)."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API key created",
            "key": obj,
            "plaintext": getattr(request, "_aims_plaintext", ""),
        }
        return TemplateResponse(request, "api/admin_key_created.html", context)

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key_id=key.pk, by=request.user)  # type: ignore[arg-type]  # the admin: a signed-in user
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key{'' if revoked == 1 else 's'}.", messages.SUCCESS)
