from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from aimsweb.admin_base import ReadOnlyAdmin, ReadOnlyInline
from contracts.checks.partition import partition_filter_problem
from contracts.models import CheckRun, ContractProducer, ContractVersion, DataContract, Violation, Warehouse
from contracts.odcs.parse import ContractSpecError, parse_contract
from contracts.services import BreakingChangeNotConfirmed, contract_changes_against_active, contract_save
from contracts.warehouses.dialect import dialect_for


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
        fields = [
            "name",
            "owner",
            "description",
            "enabled",
            "warehouse",
            "check_every_minutes",
            "partition_filter",
            "yaml_text",
        ]
        widgets = {"yaml_text": forms.Textarea(attrs={"rows": 24, "cols": 100, "class": "vLargeTextField mono"})}

    def clean_partition_filter(self) -> str:
        text = self.cleaned_data.get("partition_filter", "").strip()
        warehouse = self.cleaned_data.get("warehouse")
        problem = partition_filter_problem(text, dialect=dialect_for(warehouse.engine) if warehouse else None)
        if text and problem:
            raise forms.ValidationError(problem)
        return text

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


class ContractProducerInline(admin.TabularInline):
    model = ContractProducer
    extra = 0
    fields = ["connection", "pipeline_pattern"]


class ContractVersionInline(ReadOnlyInline):
    model = ContractVersion
    fields = ["number", "breaking", "publish_note", "published_by", "created_at"]


@admin.register(DataContract)
class DataContractAdmin(admin.ModelAdmin):
    """Saving a changed YAML text publishes it as a new version and makes that version active."""

    form = DataContractAdminForm
    list_display = ["name", "owner", "warehouse", "active_version", "check_every_minutes", "enabled", "updated_at"]
    list_filter = ["enabled", "warehouse"]
    search_fields = ["name", "owner", "description", "yaml_text"]
    list_select_related = ["active_version", "warehouse"]
    readonly_fields = ["active_version", "created_at", "updated_at"]
    inlines = [ContractProducerInline, ContractVersionInline]

    def save_model(self, request, obj, form, change) -> None:
        contract_save(
            contract=obj,
            user=request.user,
            note=form.cleaned_data.get("reason", ""),
            confirm_breaking=form.cleaned_data.get("confirm_breaking", False),
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A version published by someone else between the form's check and the save can make this text breaking:
        nothing is saved, and the editor is sent back to the form to look again."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BreakingChangeNotConfirmed as exc:
            listed = "; ".join(f"{change.path}: {change.kind.replace('_', ' ')}" for change in exc.changes)
            messages.error(
                request, f"Not saved: the active version changed meanwhile and this text breaks it ({listed})."
            )
            return HttpResponseRedirect(request.get_full_path())


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


# Where a stored password goes and whose it is: a change to any of them must not carry the password along.
WAREHOUSE_SECRET_BOUND_FIELDS = ("engine", "host", "port", "user", "database")


class WarehouseAdminForm(forms.ModelForm):
    """The password is write-only: it can be set, replaced or cleared, never read back."""

    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="PostgreSQL password, stored encrypted. Leave blank to keep the current one.",
    )
    clear_password = forms.BooleanField(required=False, help_text="Remove the stored password.")

    class Meta:
        model = Warehouse
        fields = [
            "name",
            "engine",
            "enabled",
            "host",
            "port",
            "database",
            "user",
            "sslmode",
            "secret_env_var",
            "connection",
            "warehouse_id",
            "statement_timeout_seconds",
            "max_connections",
        ]

    def clean(self):
        cleaned = super().clean()
        assert cleaned is not None  # ModelForm.clean returns cleaned_data
        if cleaned.get("password") and cleaned.get("secret_env_var"):
            self.add_error("password", "Give either a stored password or an environment variable name, not both.")
        if cleaned.get("password") and cleaned.get("clear_password"):
            self.add_error("clear_password", "Cannot clear the password and set a new one at once.")
        if cleaned.get("password") and cleaned.get("engine") == Warehouse.Engine.DATABRICKS_SQL:
            self.add_error("password", "A Databricks SQL warehouse authenticates with its connection's token.")
        changed = [field for field in WAREHOUSE_SECRET_BOUND_FIELDS if field in self.changed_data]
        stored = bool(self.instance.pk and self.instance.secret_encrypted)
        if changed and stored and not cleaned.get("password") and not cleaned.get("clear_password"):
            self.add_error(
                "password", f"Changing the {changed[0]} requires entering the password again (or clearing it)."
            )
        return cleaned

    def save(self, commit=True):
        warehouse = super().save(commit=False)
        if self.cleaned_data.get("password"):
            warehouse.set_secret(self.cleaned_data["password"])
        if commit:
            warehouse.save()
        return warehouse


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    form = WarehouseAdminForm
    list_display = ["name", "engine", "host", "database", "connection", "warehouse_id", "secret_source", "enabled"]
    list_filter = ["engine", "enabled"]
    search_fields = ["name", "host", "database", "warehouse_id"]
    list_select_related = ["connection"]
    readonly_fields = ["secret_source", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "engine", "enabled"]}),
        ("PostgreSQL", {"fields": ["host", "port", "database", "user", "sslmode"]}),
        ("PostgreSQL password", {"fields": ["secret_env_var", "password", "clear_password"]}),
        ("Databricks SQL", {"fields": ["connection", "warehouse_id"]}),
        ("Limits", {"fields": ["statement_timeout_seconds", "max_connections"]}),
        ("Record", {"fields": ["secret_source", "created_at", "updated_at"]}),
    ]

    @admin.display(description="Password")
    def secret_source(self, obj: Warehouse) -> str:
        return obj.secret_source


@admin.register(ContractProducer)
class ContractProducerAdmin(admin.ModelAdmin):
    """Which pipelines' successful runs are followed by which contract's check (also edited on the contract)."""

    list_display = ["contract", "connection", "pipeline_pattern", "updated_at"]
    list_filter = ["connection", "contract"]
    search_fields = ["pipeline_pattern", "contract__name", "connection__name"]
    list_select_related = ["contract", "connection"]
