"""The request types AIMS's views are written against, so the checker knows what the middleware adds."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (every request does): `htmx` says what htmx asks."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request to a view behind login (LoginRequiredMiddleware and a permission check): `user` is a signed-in
    user, never the anonymous one."""

    user: User
