"""Request text AIMS can store: JSON bodies and query parameters may not carry NUL characters or lone surrogates
(PostgreSQL refuses both in text, and they are never meaningful); the field or parameter is named."""

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser

NOT_STORABLE = "Contains a NUL character or a lone surrogate, which cannot be stored."


def unstorable(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)


def _first_unstorable(value: Any, path: str) -> str | None:
    if isinstance(value, str):
        return path if unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if unstorable(str(key)):
                return where
            if found := _first_unstorable(item, where):
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if found := _first_unstorable(item, f"{path}.{index}" if path else str(index)):
                return found
    return None


class StorableJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        if (where := _first_unstorable(data, "")) is not None:
            raise ValidationError({where or "body": NOT_STORABLE})
        return data


def query_check(params) -> None:
    """400 naming the first query parameter (name or value) that cannot be stored or compared."""
    for name, values in params.lists():
        if unstorable(name) or any(unstorable(value) for value in values):
            raise ValidationError({name: NOT_STORABLE})
