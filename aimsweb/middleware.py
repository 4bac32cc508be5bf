"""Response headers for pages: the Content-Security-Policy with the page's own websocket origin, and no caching of
anything shown to a signed-in user."""

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.deprecation import MiddlewareMixin


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY), with connect-src naming this host's ws:/wss: origin:
    CSP3 lets 'self' cover websockets, but browsers that predate it would refuse the live pages' connection."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:  # the 400 for a forged Host header gets the policy without it
            return parts
        scheme = "wss" if request.is_secure() else "ws"
        parts.update = {**(parts.update or {}), "connect-src": [f"{scheme}://{host}"]}
        return parts


class PrivateCacheMiddleware(MiddlewareMixin):
    """Marks every response to a signed-in user `private, no-store`: incident pages, htmx partials and the admin show
    error text and settings that must not stay in a shared proxy's cache or in the browser's after logout."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
