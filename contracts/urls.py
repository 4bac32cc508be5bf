from django.urls import path

from contracts import views

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list_view, name="list"),
    path("<int:contract_id>/", views.contract_detail_view, name="detail"),
    path("<int:contract_id>/check/", views.contract_check_view, name="check"),
    path("fed-by/pipeline/<int:pipeline_id>/", views.contracts_fed_by_view, name="fed-by"),
]
