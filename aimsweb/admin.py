"""The admin of users, groups and the task queue, in place of the stock ones: an Admin may give people one of the three
roles and nothing more. Only a superuser grants superuser status, staff status, groups or single permissions, edits
a group's permissions, or writes a schedule (and a schedule names only an AIMS task, see aimsweb.schedules)."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django_q.admin import FailAdmin, ScheduleAdmin, TaskAdmin
from django_q.models import Failure, Schedule, Success

from aimsweb.roles import Role
from aimsweb.schedules import schedule_problems, scheduled_tasks
from aimsweb.services import user_set_role

User = get_user_model()

ROLE_CHOICES = [("", "No role (signs in to no page)"), *((role.value, role.value) for role in Role)]


class SuperuserWritesMixin(admin.ModelAdmin):
    """Anyone with the view permission may look; only a superuser adds, changes, deletes or runs actions."""

    def has_add_permission(self, request, *args) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def get_actions(self, request):
        return super().get_actions(request) if request.user.is_superuser else {}


class RoleFormMixin(forms.ModelForm):
    """One role instead of groups and permissions; fields named in `locked_fields` are shown but not taken from the
    POST (an Admin's own role and active flag)."""

    role = forms.ChoiceField(choices=ROLE_CHOICES, required=False)
    locked_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            names = set(self.instance.groups.values_list("name", flat=True))
            self.fields["role"].initial = next((role.value for role in reversed(Role) if role.value in names), "")
        for name in self.locked_fields:
            self.fields[name].disabled = True
            self.fields[name].help_text = "You cannot change this for yourself."


class RoleUserChangeForm(RoleFormMixin, UserChangeForm):
    pass


class RoleUserCreationForm(RoleFormMixin, AdminUserCreationForm):
    pass


class AimsUserAdmin(UserAdmin):
    """Users as an Admin sees them: names, email, active, password (set through Django's own form) and one role.
    A superuser keeps Django's full form. Superusers are out of an Admin's reach, and nobody deletes themselves."""

    role_fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "role")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    role_add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "usable_password", "password1", "password2", "role")}),
    )
    readonly_fields = ("last_login", "date_joined")
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff", "is_superuser")

    def get_fieldsets(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.role_fieldsets if obj else self.role_add_fieldsets

    # Django's UserAdmin.get_form drops ModelAdmin's `change` parameter (it travels in kwargs); django-stubs ignores
    # the override there too.
    def get_form(self, request, obj=None, **kwargs):  # type: ignore[override]
        if not request.user.is_superuser:
            kwargs["form"] = RoleUserChangeForm if obj else RoleUserCreationForm
        form = super().get_form(request, obj, **kwargs)
        if obj is not None and obj.pk == request.user.pk and issubclass(form, RoleFormMixin):
            form.locked_fields = ("role", "is_active")
        return form

    def _reaches(self, request, obj) -> bool:
        """A superuser's row is a superuser's business alone."""
        return obj is None or request.user.is_superuser or not obj.is_superuser

    def has_view_permission(self, request, obj=None) -> bool:
        return self._reaches(request, obj) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._reaches(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        is_self = obj is not None and obj.pk == request.user.pk
        return not is_self and self._reaches(request, obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        if "role" in form.fields and not form.fields["role"].disabled and "role" in form.changed_data:
            role = form.cleaned_data["role"]
            user_set_role(user=obj, role=Role(role) if role else None)


class ScheduleForm(forms.ModelForm):
    """A schedule's function is one of the tasks AIMS schedules; its arguments are plain values, no queue options."""

    func = forms.ChoiceField(label="Function", choices=lambda: [(name, name) for name in scheduled_tasks()])

    class Meta:
        model = Schedule
        # Not "hook": a schedule never names a result hook.
        fields = (
            "name",
            "func",
            "args",
            "kwargs",
            "schedule_type",
            "minutes",
            "repeats",
            "next_run",
            "cron",
            "cluster",
            "intended_date_kwarg",
        )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        problems = schedule_problems(
            func=cleaned.get("func", ""),
            hook=None,
            args=cleaned.get("args"),
            kwargs=cleaned.get("kwargs"),
            intended_date_kwarg=cleaned.get("intended_date_kwarg"),
        )
        for field, problem in problems.items():
            if field not in self.errors:
                self.add_error(field, problem)
        return cleaned


class AimsScheduleAdmin(SuperuserWritesMixin, ScheduleAdmin):
    form = ScheduleForm


class AimsSuccessAdmin(SuperuserWritesMixin, TaskAdmin):
    """Resubmitting a task (an action) runs it again: a superuser's decision."""


class AimsFailureAdmin(SuperuserWritesMixin, FailAdmin):
    """Resubmitting a failed task (an action) runs it again: a superuser's decision."""


class AimsGroupAdmin(SuperuserWritesMixin, GroupAdmin):
    """The role groups' permissions are defined in code (aimsweb.roles); Admins see them, never change them."""


for model, model_admin in (
    (User, AimsUserAdmin),
    (Group, AimsGroupAdmin),
    (Schedule, AimsScheduleAdmin),
    (Success, AimsSuccessAdmin),
    (Failure, AimsFailureAdmin),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)
