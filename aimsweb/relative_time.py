"""Times as people read them in lists: "just now", "2 min ago", "in 5 min", "3 h ago", "4 d ago", then a date. The
same words are drawn by aimsweb/static/aimsweb/relative-time.js every 30 s, so a page left open keeps telling the
truth; the full date sits in the element's title."""

from datetime import datetime

from django.utils import timezone

JUST_NOW_SECONDS = 45


def relative_text(moment: datetime, now: datetime | None = None) -> str:
    """`moment` relative to `now` in a few compact words (past or future); past a week, the date."""
    now = now or timezone.now()
    seconds = int((now - moment).total_seconds())
    ahead = seconds < 0
    seconds = abs(seconds)
    if seconds < JUST_NOW_SECONDS:
        return "just now"
    if seconds < 3600:
        amount = f"{max(1, round(seconds / 60))} min"
    elif seconds < 86400:
        amount = f"{seconds // 3600} h"
    elif seconds < 7 * 86400:
        amount = f"{seconds // 86400} d"
    else:
        return timezone.localtime(moment).strftime("%Y-%m-%d")
    return f"in {amount}" if ahead else f"{amount} ago"
