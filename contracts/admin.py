from django import forms
from django.contrib import admin

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from contracts.models import CheckRun, ContractVersion, DataContract, Violation
from contracts.odcs.parse import ContractSpecError, parse_contract
from contracts.services import contract_save


class DataContractAdminForm(forms.ModelForm):
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


class ContractVersionInline(ReadOnlyInline):
    model = ContractVersion
    fields = ["number", "checksum", "published_by", "created_at"]


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
        contract_save(contract=obj, user=request.user)


@admin.register(ContractVersion)
class ContractVersionAdmin(ReadOnlyAdmin):
    list_display = ["contract", "number", "checksum", "published_by", "created_at"]
    list_filter = ["contract"]
    search_fields = ["contract__name", "checksum", "yaml_text"]
    list_select_related = ["contract", "published_by"]


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
