"""Query strings of the list pages: links that keep a page's filters, and the numbers people type into URLs."""

from collections.abc import Mapping
from urllib.parse import urlencode


def query_string(params: Mapping[str, object]) -> str:
    """The params as a query string, in the mapping's order (so the same filters always give the same, shareable
    link); a list repeats its name for each item; None, "" and empty lists are left out."""
    pairs: list[tuple[str, object]] = []
    for name, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((name, item) for item in value)
        elif value is not None and value != "":
            pairs.append((name, value))
    return urlencode(pairs)


def positive_int(value: str | None) -> int | None:
    """A query parameter as an id or page number: a positive integer that fits a database column, else None."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None
