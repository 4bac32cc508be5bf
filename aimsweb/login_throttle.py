"""Brute-force protection of the login pages, through django-axes (settings: AIMS_LOGIN_*, AXES_*).

Axes counts failed logins per lockout parameter (here the username, and the client's address) and compares the
larger count with one limit. AIMS has two limits, a tight one per username and a looser one per address, so the
handler reports the address's count in units of the per-username limit: an address reaches the limit after
AIMS_LOGIN_FAILURES_PER_ADDRESS failures, a username after AIMS_LOGIN_FAILURES_PER_USER.
"""

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str:
    """The address failures are counted against: the peer's; behind the TLS proxy, the entry the proxy appended to
    X-Forwarded-For (the last one: those before it are whatever the client sent)."""
    if settings.BEHIND_TLS_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with a limit per username and another per address."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        # One queryset per AXES_LOCKOUT_PARAMETERS entry, in its order: the username's attempts, the address's.
        by_username, by_address = (
            attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            for attempts in self.get_user_attempts(request, credentials)
        )
        scaled = by_address * settings.AIMS_LOGIN_FAILURES_PER_USER // settings.AIMS_LOGIN_FAILURES_PER_ADDRESS
        return max(by_username, scaled)


def lockout_response(request: HttpRequest, *args) -> HttpResponse:
    """The login page's answer while locked out: what happened and when to try again, status 429. (Axes passes the
    original response and the credentials, or only the credentials from async code; neither is needed.)"""
    minutes = settings.AIMS_LOGIN_COOLOFF_MINUTES
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
