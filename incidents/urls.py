from django.urls import path

from incidents.views import ack_links, incident_list, notifications, parts
from incidents.views import incidents as views
from incidents.views.export import incident_export_view

app_name = "incidents"

urlpatterns = [
    path("", incident_list.incident_list_view, name="list"),
    path("bulk/", incident_list.incident_bulk_view, name="bulk"),
    path("notifications/", notifications.notification_list_view, name="notifications"),
    path("notifications/<int:notification_id>/", notifications.notification_detail_view, name="notification"),
    path("export/", incident_export_view, name="export"),
    path("<int:incident_id>/", views.incident_detail_view, name="detail"),
    path("<int:incident_id>/acknowledge/", views.incident_acknowledge_view, name="acknowledge"),
    path("<int:incident_id>/ack/<str:token>/", ack_links.incident_ack_link_view, name="ack-link"),
    path("<int:incident_id>/resolve/", views.incident_resolve_view, name="resolve"),
    path("<int:incident_id>/reopen/", views.incident_reopen_view, name="reopen"),
    path("<int:incident_id>/assign/", views.incident_assign_view, name="assign"),
    path("<int:incident_id>/title/", views.incident_title_view, name="title"),
    path("<int:incident_id>/comment/", views.incident_comment_view, name="comment"),
    path("<int:incident_id>/silence/", views.incident_silence_view, name="silence"),
    path("<int:incident_id>/unsilence/", views.incident_unsilence_view, name="unsilence"),
    path("<int:incident_id>/ticket/", views.incident_ticket_view, name="ticket"),
    path("<int:incident_id>/merge/", parts.incident_merge_into_view, name="merge-into"),
    path("<int:incident_id>/split/", parts.incident_split_view, name="split"),
    path("<int:incident_id>/runs/<int:run_id>/retry/", views.incident_run_retry_view, name="run-retry"),
    path("<int:incident_id>/retries/cancel/", views.incident_retry_cancel_view, name="retry-cancel"),
]
