from django.urls import path

from monitors.views import adf_callback_webhook, azure_monitor_webhook, databricks_webhook

app_name = "hooks"

urlpatterns = [
    path("databricks/<slug:connection_name>/", databricks_webhook, name="databricks"),
    path("azure-monitor/<slug:connection_name>/", azure_monitor_webhook, name="azure-monitor"),
    path("adf/<slug:connection_name>/", adf_callback_webhook, name="adf"),
]
