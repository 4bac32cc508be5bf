"""Rewriting text already stored, for data migrations that clean what was saved before a cleaning step existed."""

from collections.abc import Callable
from typing import Any


def stored_rows_rewrite(model, fields: tuple[str, ...], transform: Callable[[Any], Any], *, batch: int = 500) -> None:
    """Apply `transform` to `fields` of every stored row of `model`: batched by primary key, writing only rows that
    change, so running it again changes nothing."""
    last_pk = 0
    while rows := list(model.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", *fields)[:batch]):
        changed = []
        for row in rows:
            values = {field: transform(getattr(row, field)) for field in fields}
            if any(values[field] != getattr(row, field) for field in fields):
                for field, value in values.items():
                    setattr(row, field, value)
                changed.append(row)
        model.objects.bulk_update(changed, fields)
        last_pk = rows[-1].pk
