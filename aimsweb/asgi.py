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

from incidents.routing import websocket_urlpatterns  # noqa: E402


class StaticThenDjango:
    """Serves collected static files itself (async, with ETag and Last-Modified) and hands everything else to
    Django. Static files never enter Django's middleware chain, which then stays fully async."""

    def __init__(self, django_app, static_root, static_url: str):
        self.django_app = django_app
        self.prefix = "/" + static_url.strip("/") + "/"
        # Mounted in a small Starlette app, which turns a missing file into a plain 404 response.
        self.static_app = Starlette(
            routes=[Mount(self.prefix.rstrip("/"), app=StaticFiles(directory=static_root, check_dir=False))]
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            return await self.static_app(scope, receive, send)
        return await self.django_app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": StaticThenDjango(django_asgi_app, settings.STATIC_ROOT, settings.STATIC_URL),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
