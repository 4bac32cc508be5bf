"""The notification log: recent notifications of every channel, and one notification's page (what was sent, what
happened to it, a digest's items)."""

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render

from aimsweb.http import AuthenticatedHttpRequest
from incidents.pages.notifications import notification_page, notifications_page
from incidents.selectors.notifications import notification_get


@permission_required("incidents.view_incident", raise_exception=True)
def notification_list_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The newest notifications of every channel, each saying what happened to it."""
    return render(request, "incidents/notification_list.html", notifications_page())


@permission_required("incidents.view_incident", raise_exception=True)
def notification_detail_view(request: AuthenticatedHttpRequest, notification_id: int) -> HttpResponse:
    """One notification, or a digest with the notifications it carried."""
    notification = notification_get(notification_id=notification_id)
    if notification is None:
        raise Http404("No such notification.")
    return render(request, "incidents/notification_detail.html", notification_page(notification))
