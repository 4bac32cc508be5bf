"""AIMS's URLs plus the ticket sync's inbound routes, as aimsweb.urls is to include them."""

from django.urls import include, path

from aimsweb.urls import urlpatterns as aims_urlpatterns

urlpatterns = [path("integrations/", include("tickets.urls")), *aims_urlpatterns]
