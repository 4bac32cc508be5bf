from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from aimsweb.health import healthz, livez
from api.views import keys as api_keys
from incidents import pipeline_urls
from incidents.views.dashboard import dashboard_view
from monitors import urls as monitors_urls
from oncall import views as oncall_views

handler403 = "aimsweb.access.permission_denied"
handler500 = "api.views.errors.server_error"

admin.site.site_header = "AIMS administration"
admin.site.site_title = "AIMS admin"
admin.site.index_title = "Connections, policies, contracts and users"

urlpatterns = [
    path("", dashboard_view, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("account/api-keys/", api_keys.api_keys_view, name="api-keys"),
    path("account/api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke_view, name="api-key-revoke"),
    path("account/contact/", oncall_views.contact_view, name="contact"),
    path("oncall/", include("oncall.urls")),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("incidents/", include("incidents.urls")),
    path("contracts/", include("contracts.urls")),
    path("health/", include("insights.urls")),
    path("hooks/", include("monitors.hooks_urls")),
    # One namespace for the pipeline pages (served by incidents: they count incidents) and the runs page.
    path("", include(([*pipeline_urls.urlpatterns, *monitors_urls.urlpatterns], monitors_urls.app_name))),
    path("api/", include("api.urls")),
    # Jira webhooks and ServiceNow callbacks for ticket routes (verified per route, CSRF-exempt).
    path("integrations/", include("tickets.urls")),
    # Read-only pages of retry policies, routes, channels, maintenance windows and runbooks, for every role.
    path("settings/", include("settings_pages.urls")),
    path("admin/", admin.site.urls),
]
