"""Read-only pages of the settings people act on (retry policies, notification routes and channels, maintenance
windows, runbooks), for every role: Viewers read them here rather than being sent to the admin."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render

from aimsweb.http import AuthenticatedHttpRequest
from settings_pages.pages import SECTIONS, Section, settings_detail_page, settings_index_page, settings_list_page


def _section(request: AuthenticatedHttpRequest, key: str) -> Section:
    section = SECTIONS[key]
    if not request.user.has_perm(section.view_permission):
        raise PermissionDenied
    return section


def settings_index_view(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = settings_index_page(user=request.user)
    if not page["sections"]:
        raise PermissionDenied
    return render(request, "settings_pages/index.html", page)


def settings_list_view(request: AuthenticatedHttpRequest, *, key: str) -> HttpResponse:
    section = _section(request, key)
    return render(request, "settings_pages/list.html", settings_list_page(section, user=request.user))


def settings_detail_view(request: AuthenticatedHttpRequest, pk: int, *, key: str) -> HttpResponse:
    section = _section(request, key)
    obj = section.rows().filter(pk=pk).first()
    if obj is None:
        raise Http404(f"No such {section.singular.lower()}.")
    return render(request, "settings_pages/detail.html", settings_detail_page(section, obj, user=request.user))
