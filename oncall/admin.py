"""Schedules, their rotations and overrides, and contact methods, edited by Admins; an iCal file imported per
schedule from its change page."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from oncall.forms import IcalImportForm, responder_problem
from oncall.ical import IcalImportError
from oncall.models import ContactMethod, Override, Rotation, RotationMember, Schedule
from oncall.services import schedule_ical_import


class _ResponderField(forms.ModelForm):
    """A participant must be able to act on incidents (the Responder role or above)."""

    def clean_user(self):
        user = self.cleaned_data["user"]
        problem = responder_problem(user)
        if problem:
            raise ValidationError(problem)
        return user


class RotationMemberForm(_ResponderField):
    class Meta:
        model = RotationMember
        fields = ["position", "user"]


class OverrideForm(_ResponderField):
    class Meta:
        model = Override
        fields = ["user", "starts_at", "ends_at", "reason"]


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    form = RotationMemberForm
    extra = 1
    verbose_name = "participant"
    verbose_name_plural = "participants, in hand-off order"


class OverrideInline(admin.TabularInline):
    model = Override
    form = OverrideForm
    extra = 0
    verbose_name_plural = "overrides (on call instead of the rotation)"


class RotationInline(admin.StackedInline):
    model = Rotation
    extra = 0
    show_change_link = True
    fields = ["name", "layer", "length", "custom_hours", "handoff_time", "handoff_weekday", "starts_at", "ends_at"]


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "position"]
    search_fields = ["name"]
    inlines = [RotationInline, OverrideInline]
    change_form_template = "oncall/admin_schedule_change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.ical_import_view)
        return [path("<int:schedule_id>/import/", view, name="oncall_schedule_import"), *super().get_urls()]

    def ical_import_view(self, request, schedule_id: int):
        schedule = get_object_or_404(Schedule, pk=schedule_id)
        if not self.has_change_permission(request, schedule):
            return TemplateResponse(request, "403.html", status=403)
        form = IcalImportForm(request.POST or None, request.FILES or None)
        status = 200
        if request.method == "POST":
            if form.is_valid():
                try:
                    result = schedule_ical_import(schedule=schedule, text=form.ical_text())
                except IcalImportError as exc:
                    form.add_error(None, str(exc))
                else:
                    self.message_user(request, f"Imported {result} override(s) into {schedule}.", messages.SUCCESS)
                    return redirect(reverse("admin:oncall_schedule_change", args=[schedule.pk]))
            status = 400
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "schedule": schedule,
            "form": form,
            "title": f"Import an iCal file into {schedule}",
        }
        return TemplateResponse(request, "oncall/admin_ical_import.html", context, status=status)


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    list_display = ["schedule", "name", "layer", "length", "handoff_time", "starts_at"]
    list_filter = ["schedule"]
    list_select_related = ["schedule"]
    inlines = [RotationMemberInline]


@admin.register(ContactMethod)
class ContactMethodAdmin(admin.ModelAdmin):
    list_display = ["user", "email", "slack_member_id", "teams_upn"]
    search_fields = ["user__username", "email", "slack_member_id", "teams_upn"]
    list_select_related = ["user"]
