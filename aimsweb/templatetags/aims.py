from datetime import timedelta

from django import template

from aimsweb.durations import duration_text

register = template.Library()


@register.filter
def duration_ms(value: int | None) -> str:
    """Milliseconds as a short human duration (aimsweb.durations): 850 ms, 42 s, 3 min 37 s, 2 h 5 min."""
    return duration_text(None if value is None else timedelta(milliseconds=value))
