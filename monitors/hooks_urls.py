from django.urls import path

from monitors.views import azure_monitor_webhook, databricks_webhook

app_name = "hooks"

urlpatterns = [
    path("databricks/<slug:connection_name>/", databricks_webhook, name="databricks"),
    path("azure-monitor/<slug:connection_name>/", azure_monitor_webhook, name="azure-monitor"),
]
