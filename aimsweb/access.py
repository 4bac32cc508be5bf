"""What a person who may not do something is told: the 403 page names the permission that was missing and the
Admins who can grant it; a signed-in user without access to the Django admin gets that page there too, never the
admin's login form (which would only invite them to sign in as someone else)."""

from collections.abc import Callable

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from aimsweb.roles import Role, user_role

ADMIN_SITE = "admin-site"  # the PermissionDenied message of the admin guard
# Admin pages whose settings every role reads on a page of its own (settings_pages, by URL name): the 403 page for
# /admin/<app>/<model>/[<id>/...] points there.
READ_ONLY_PAGES = {
    ("remediation", "retrypolicy"): "policies",
    ("incidents", "notificationroute"): "routes",
    ("incidents", "notificationchannel"): "channels",
    ("monitors", "maintenancewindow"): "maintenance",
    ("incidents", "runbook"): "runbooks",
}
DENIED_ATTRIBUTE = "_aims_denied_permission"
MAX_ADMINS_NAMED = 10


class DeniedPermissionRecorder:
    """An authentication backend placed last, so it is asked only when every other backend refused a permission:
    it grants nothing and remembers, on the user, which permission was refused (the 403 page names it)."""

    def authenticate(self, request, **credentials) -> None:
        return None

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        setattr(user_obj, DENIED_ATTRIBUTE, perm)
        return False


class AdminSiteGuardMiddleware:
    """A signed-in user who may not use the Django admin (not staff, or inactive) gets the 403 page for any admin
    URL, the login form included. Anonymous users still get the admin's login page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            request.path.startswith(reverse("admin:index"))
            and user is not None
            and user.is_authenticated
            and not admin.site.has_permission(request)
        ):
            raise PermissionDenied(ADMIN_SITE)
        return self.get_response(request)


def admin_names() -> list[str]:
    """The usernames of the active Admins (role Admin or superuser), as the header and assignee lists show people.
    Email addresses are never listed: pages show none anywhere else."""
    people = get_user_model()._default_manager
    admins = people.filter(Q(groups__name=Role.ADMIN.value) | Q(is_superuser=True), is_active=True).distinct()
    return list(admins.order_by("username").values_list("username", flat=True)[:MAX_ADMINS_NAMED])


def _missing(request: HttpRequest, exception: Exception | None) -> str:
    """The missing permission in words ('' when not known)."""
    message = str(exception or "")
    if message == ADMIN_SITE:
        return "the Admin role (only Admins use the admin site)"
    perm = getattr(getattr(request, "user", None), DENIED_ATTRIBUTE, "")
    if not perm or "." not in perm:
        return ""
    app_label, codename = perm.split(".", 1)
    name = (
        Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        .values_list("name", flat=True)
        .first()
    )
    return f"“{name}” ({perm})" if name else perm


def read_only_page(path: str) -> str:
    """For an admin URL of a setting every role reads, the URL of its read-only page ('' for any other)."""
    admin_root = reverse("admin:index")
    if not path.startswith(admin_root):
        return ""
    parts = path[len(admin_root) :].strip("/").split("/")
    key = READ_ONLY_PAGES.get((parts[0], parts[1])) if len(parts) >= 2 else None
    if key is None:
        return ""
    try:
        if len(parts) >= 3 and parts[2].isdigit():
            return reverse(f"settings_pages:{key}-detail", args=[int(parts[2])])
        return reverse(f"settings_pages:{key}-list")
    except NoReverseMatch:
        return ""


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler403: what was missing and whom to ask, and where to read a setting instead of the admin."""
    context = {
        "read_instead": read_only_page(request.path),
        "missing": _missing(request, exception),
        "admins": admin_names(),
        "has_role": user_role(request.user) is not None if hasattr(request, "user") else False,
    }
    response = TemplateResponse(request, "403.html", context, status=403)
    response.render()
    return response
