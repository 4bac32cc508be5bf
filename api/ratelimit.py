"""A request quota per caller (API key, else signed-in user, else address) in fixed one-minute windows, counted in
the shared cache so every web process counts together. Every answer carries the quota as RateLimit fields (the
current draft's `RateLimit-Policy`/`RateLimit` and the older `RateLimit-Limit`/`-Remaining`/`-Reset`)."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from api.auth import api_key_of

WINDOW_SECONDS = 60
POLICY = "default"


@dataclass(frozen=True)
class Quota:
    limit: int
    remaining: int
    reset: int  # seconds until the window ends


def caller_of(request: Request) -> str:
    key = api_key_of(request)
    if key is not None:
        return f"key:{key.pk}"
    if request.user is not None and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"addr:{request.META.get('REMOTE_ADDR', '')}"


class CallerRateThrottle(BaseThrottle):
    def allow_request(self, request: Request, view) -> bool:
        limit = settings.AIMS_API_RATE_PER_MINUTE
        now = time.time()
        window = int(now // WINDOW_SECONDS)
        name = f"api-rate:{caller_of(request)}:{window}"
        if cache.add(name, 1, timeout=WINDOW_SECONDS + 5):
            used = 1
        else:
            try:
                used = cache.incr(name)
            except ValueError:  # expired between add and incr
                cache.set(name, 1, timeout=WINDOW_SECONDS + 5)
                used = 1
        self.reset = max(1, int((window + 1) * WINDOW_SECONDS - now))
        request.aims_quota = Quota(limit=limit, remaining=max(0, limit - used), reset=self.reset)  # type: ignore[attr-defined]
        return used <= limit

    def wait(self) -> float:
        return float(self.reset)


def quota_headers(quota: Quota) -> dict[str, str]:
    return {
        "RateLimit-Policy": f'"{POLICY}";q={quota.limit};w={WINDOW_SECONDS}',
        "RateLimit": f'"{POLICY}";r={quota.remaining};t={quota.reset}',
        "RateLimit-Limit": str(quota.limit),
        "RateLimit-Remaining": str(quota.remaining),
        "RateLimit-Reset": str(quota.reset),
    }
