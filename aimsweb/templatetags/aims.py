from django import template

register = template.Library()


@register.filter
def duration_ms(value: int | None) -> str:
    """Milliseconds as a short human duration: 850 ms, 42 s, 3 min 37 s, 2 h 5 min."""
    if value is None:
        return "—"
    seconds = value / 1000
    if seconds < 1:
        return f"{value} ms"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
