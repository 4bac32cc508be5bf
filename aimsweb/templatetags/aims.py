from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from aimsweb.durations import duration_text
from aimsweb.relative_time import relative_text

register = template.Library()


@register.filter
def duration_ms(value: int | None) -> str:
    """Milliseconds as a short human duration (aimsweb.durations): 850 ms, 42 s, 3 min 37 s, 2 h 5 min."""
    return duration_text(None if value is None else timedelta(milliseconds=value))


@register.filter
def relative_time(value: datetime | None) -> str:
    """A <time> that reads "2 min ago" (ticking in the browser, see relative-time.js), the full date in its title;
    "—" for no time."""
    if value is None or not isinstance(value, datetime):
        return mark_safe('<span class="muted">—</span>')
    return format_html(
        '<time class="rel" datetime="{}" title="{}" data-relative>{}</time>',
        value.isoformat(),
        timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z"),
        relative_text(value),
    )
