from django.urls import path

from oncall import views

app_name = "oncall"

urlpatterns = [
    path("", views.schedule_list_view, name="list"),
    path("<int:schedule_id>/", views.schedule_detail_view, name="detail"),
]
