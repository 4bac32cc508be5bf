from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from rest_framework.routers import SimpleRouter

from api.views import docs, errors
from api.views.incidents import IncidentViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=False)
router.register("incidents", IncidentViewSet, basename="incident")

urlpatterns = [
    path("v1/", include(router.urls)),
    # The reference pages are for people who can sign in (scripts read the committed api/openapi.yaml).
    path("schema", login_required(docs.SchemaView.as_view()), name="schema"),
    path("docs/", login_required(docs.SwaggerView.as_view()), name="docs"),
    path("redoc/", login_required(docs.RedocView.as_view()), name="redoc"),
    re_path(r"^(?P<path>.*)$", errors.not_found),
]
