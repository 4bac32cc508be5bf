"""ASGI entry point: HTTP through Django, websockets through Channels with the Django session's user."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aimsweb.settings")
# Django must be set up before anything imports models (the consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.routing import Mount  # noqa: E402
from starlette.staticfiles import StaticFiles  # noqa: E402

from aimsweb.access_log import AccessLog  # noqa: E402
from contracts.routing import websocket_urlpatterns as contract_websockets  # noqa: E402
from incidents.routing import websocket_urlpatterns as incident_websockets  # noqa: E402

# What Django's SecurityMiddleware says on pages, said on static files too (they skip it): the type is never guessed,
# no referrer leaves, and no other site may embed them.
STATIC_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


class StaticThenDjango:
    """Serves collected static files itself (async, with ETag and Last-Modified, and the security headers above) and
    hands everything else to Django. Static files never enter Django's middleware chain, which then stays fully
    async."""

    def __init__(self, django_app, static_root, static_url: str):
        self.django_app = django_app
        self.prefix = "/" + static_url.strip("/") + "/"
        # Mounted in a small Starlette app, which turns a missing file into a plain 404 response.
        self.static_app = Starlette(
            routes=[Mount(self.prefix.rstrip("/"), app=StaticFiles(directory=static_root, check_dir=False))]
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):

            async def send_with_headers(message):
                if message["type"] == "http.response.start":
                    message = {**message, "headers": [*message.get("headers", []), *STATIC_SECURITY_HEADERS]}
                await send(message)

            return await self.static_app(scope, receive, send_with_headers)
        return await self.django_app(scope, receive, send)


websocket_urlpatterns = [*incident_websockets, *contract_websockets]

application = ProtocolTypeRouter(
    {
        "http": AccessLog(StaticThenDjango(django_asgi_app, settings.STATIC_ROOT, settings.STATIC_URL)),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
