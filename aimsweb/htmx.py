"""What an htmx request asks of a page view."""

from django.http import HttpRequest


def partial_only(request: HttpRequest) -> bool:
    """An htmx swap wants the partial; htmx restoring history after a cache miss wants the whole page."""
    htmx = getattr(request, "htmx", None)  # django-htmx's middleware sets it
    if not htmx:
        return False
    return not htmx.history_restore_request
