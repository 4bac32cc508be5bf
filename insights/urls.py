from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("", views.health_view, name="health"),
    path("tiles/", views.health_tiles_view, name="tiles"),
    path("series/<int:series_id>/", views.series_view, name="series"),
    path("series/<int:series_id>/notes/", views.series_note_view, name="series-note"),
]
