from django.urls import path

from settings_pages.pages import SECTIONS
from settings_pages.views import settings_detail_view, settings_index_view, settings_list_view

app_name = "settings_pages"

urlpatterns = [
    path("", settings_index_view, name="index"),
    *[
        route
        for key in SECTIONS
        for route in (
            path(f"{key}/", settings_list_view, {"key": key}, name=f"{key}-list"),
            path(f"{key}/<int:pk>/", settings_detail_view, {"key": key}, name=f"{key}-detail"),
        )
    ],
]
