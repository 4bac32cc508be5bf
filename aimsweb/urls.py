from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from aimsweb.health import healthz, livez
from incidents.views.dashboard import dashboard_view

admin.site.site_header = "AIMS administration"
admin.site.site_title = "AIMS admin"
admin.site.index_title = "Connections, policies, contracts and users"

urlpatterns = [
    path("", dashboard_view, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("incidents/", include("incidents.urls")),
    path("hooks/", include("monitors.hooks_urls")),
    path("", include("monitors.urls")),
    path("admin/", admin.site.urls),
]
