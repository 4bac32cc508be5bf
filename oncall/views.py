"""The schedule pages (every role reads them) and a person's own contact methods."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from aimsweb.http import AuthenticatedHttpRequest
from oncall.forms import ContactMethodForm
from oncall.models import Schedule
from oncall.pages.schedules import schedule_detail_page, schedule_list_page
from oncall.selectors import contact_get
from oncall.services import contact_save


@permission_required("oncall.view_schedule", raise_exception=True)
def schedule_list_view(request: HttpRequest) -> HttpResponse:
    return render(request, "oncall/schedule_list.html", schedule_list_page(user=request.user))


@permission_required("oncall.view_schedule", raise_exception=True)
def schedule_detail_view(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = get_object_or_404(Schedule, pk=schedule_id)
    return render(request, "oncall/schedule_detail.html", schedule_detail_page(schedule=schedule, user=request.user))


@login_required
def contact_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The signed-in person's own contact methods (nobody edits another's here; Admins use the admin)."""
    contact = contact_get(user_id=request.user.pk)
    form = ContactMethodForm(request.POST or None, instance=contact)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            contact_save(user=request.user, **form.cleaned_data)
            messages.success(request, "Your contact methods are saved.")
            return redirect("contact")
        status = 400
    return render(request, "oncall/contact.html", {"form": form}, status=status)
