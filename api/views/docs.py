"""The OpenAPI document and its two readers (Swagger UI, Redoc), served from AIMS's own static files."""

from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from api.auth import BrowserSessionAuthentication


class SchemaView(SpectacularAPIView):
    permission_classes = [AllowAny]
    authentication_classes = [BrowserSessionAuthentication]  # behind login_required (api.urls)
    throttle_classes: list = []


class SwaggerView(SpectacularSwaggerSplitView):
    permission_classes = [AllowAny]
    authentication_classes = [BrowserSessionAuthentication]  # behind login_required (api.urls)
    throttle_classes: list = []
    url_name = "api:schema"


class RedocView(SpectacularRedocView):
    permission_classes = [AllowAny]
    authentication_classes = [BrowserSessionAuthentication]  # behind login_required (api.urls)
    throttle_classes: list = []
    url_name = "api:schema"
