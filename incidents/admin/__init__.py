"""The incidents app in the admin, one module per concern; importing them registers their model admins."""

from incidents.admin import analysis, channels, incidents, parts, routes, runbooks

__all__ = ["analysis", "channels", "incidents", "parts", "routes", "runbooks"]
