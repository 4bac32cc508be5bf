from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from contracts.models import CheckRun, ContractVersion, DataContract, Violation
from contracts.odcs.parse import ContractSpecError, parse_contract
from contracts.services import contract_changes_against_active, contract_save


class DataContractAdminForm(forms.ModelForm):
    confirm_breaking = forms.BooleanField(
        label="Confirm breaking change",
        required=False,
        help_text="Publish even though the new text breaks the active version's consumers.",
    )
    reason = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 100}),
        help_text="Why this version is published; recorded with it and required for a breaking change.",
    )

    class Meta:
        model = DataContract
        fields = ["name", "owner", "description", "enabled", "yaml_text"]
        widgets = {"yaml_text": forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField mono"})}

    def clean_yaml_text(self) -> str:
        text = self.cleaned_data["yaml_text"]
        try:
            parse_contract(text)
        except ContractSpecError as exc:
            raise forms.ValidationError(exc.errors) from exc
        return text

    def clean(self) -> dict:
        """Refuse a breaking change, listing each one, until it is confirmed with a reason."""
        cleaned = super().clean() or {}
        text = cleaned.get("yaml_text")
        if text is None:
            return cleaned
        breaking = [
            change
            for change in contract_changes_against_active(contract=self.instance, yaml_text=text)
            if change.level == "breaking"
        ]
        if breaking and not cleaned.get("confirm_breaking"):
            listed = [
                f"{c.path}: {c.kind.replace('_', ' ')} ({_value(c.before)} -> {_value(c.after)})" for c in breaking
            ]
            raise forms.ValidationError(
                [f"This version breaks the active one ({len(breaking)} breaking change(s)):", *listed]
                + ["Tick 'Confirm breaking change' and give a reason to publish it anyway."]
            )
        if breaking and not cleaned.get("reason", "").strip():
            self.add_error("reason", "Say why this breaking change is published.")
        return cleaned


def _value(value) -> str:
    return "-" if value is None else str(value)


class ContractVersionInline(ReadOnlyInline):
    model = ContractVersion
    fields = ["number", "breaking", "publish_note", "published_by", "created_at"]


@admin.register(DataContract)
class DataContractAdmin(admin.ModelAdmin):
    """Saving a changed YAML text publishes it as a new version and makes that version active."""

    form = DataContractAdminForm
    list_display = ["name", "owner", "active_version", "enabled", "updated_at"]
    list_filter = ["enabled"]
    search_fields = ["name", "owner", "description", "yaml_text"]
    list_select_related = ["active_version"]
    readonly_fields = ["active_version", "created_at", "updated_at"]
    inlines = [ContractVersionInline]

    def save_model(self, request, obj, form, change) -> None:
        contract_save(
            contract=obj,
            user=request.user,
            note=form.cleaned_data.get("reason", ""),
            confirm_breaking=form.cleaned_data.get("confirm_breaking", False),
        )


@admin.register(ContractVersion)
class ContractVersionAdmin(ReadOnlyAdmin):
    list_display = ["contract", "number", "breaking", "published_by", "created_at"]
    list_filter = ["breaking", "contract"]
    search_fields = ["contract__name", "checksum", "yaml_text", "publish_note"]
    list_select_related = ["contract", "published_by"]
    fields = [
        "contract",
        "number",
        "published_by",
        "created_at",
        "breaking",
        "publish_note",
        "change_list",
        "checksum",
        "yaml_text",
    ]
    readonly_fields = ["created_at", "change_list"]

    @admin.display(description="Changes against the previous version")
    def change_list(self, obj: ContractVersion) -> str:
        if not obj.changes:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{} &rarr; {}</td></tr>",
            (
                (c.get("level"), c.get("kind"), c.get("path"), _value(c.get("before")), _value(c.get("after")))
                for c in obj.changes
            ),
        )
        header = mark_safe("<tr><th>Level</th><th>Kind</th><th>Path</th><th>Before &rarr; after</th></tr>")
        return format_html("<table>{}{}</table>", header, rows)


class ViolationInline(ReadOnlyInline):
    model = Violation
    fields = ["rule", "column", "severity", "message"]


@admin.register(CheckRun)
class CheckRunAdmin(ReadOnlyAdmin):
    list_display = ["contract", "version", "status", "started_at", "finished_at", "rows_checked"]
    list_filter = ["status", "contract"]
    search_fields = ["contract__name", "error_message"]
    list_select_related = ["contract", "version__contract"]
    date_hierarchy = "started_at"
    inlines = [ViolationInline]


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ["check_run", "rule", "column", "severity", "created_at"]
    list_filter = ["severity", "check_run__contract"]
    search_fields = ["rule", "column", "message", "check_run__contract__name"]
    list_select_related = ["check_run__contract"]
