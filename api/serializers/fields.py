"""Fields for what API callers write: every text is hostile until checked."""

import re
import unicodedata

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.problems import UNKNOWN_REFERENCE

# The largest id a database row can have (a signed 64-bit key): anything above is refused, not looked up.
MAX_ID = 2**63 - 1


# What TextField refuses, as a JSON Schema (ECMA) character class: control characters (Cc); tabs and line breaks stay
# in multi-line text. The OpenAPI document states the same rule as the field's `pattern`. Lone surrogates are refused
# too, but a surrogate range is no valid pattern for Unicode-scalar regex engines, so the document does not say it.
_REFUSED_ONE_LINE = r"\u0000-\u001f\u007f-\u009f"
_REFUSED_LINES = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
# The check itself is the same character class (Python's re reads these escapes as JSON Schema does): one rule.
_REFUSED = {True: re.compile(f"[{_REFUSED_LINES}]"), False: re.compile(f"[{_REFUSED_ONE_LINE}]")}


def text_pattern(*, lines: bool, allow_blank: bool) -> str:
    """The JSON Schema pattern of a TextField: only allowed characters, and something besides spaces unless blank
    is allowed (DRF trims surrounding whitespace, then refuses what is left empty)."""
    refused = _REFUSED_LINES if lines else _REFUSED_ONE_LINE
    if allow_blank:
        return f"^[^{refused}]*$"
    return f"^[^{refused}]*[^{refused}\\s][^{refused}]*$"


class TextField(serializers.CharField):
    """Text a person wrote. JSON may carry lone surrogates (\\ud800), which no database stores: refused, like
    control characters (escapes, NUL; tabs and line breaks stay when `lines`)."""

    def __init__(self, *, lines: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lines = lines

    def to_internal_value(self, data) -> str:
        value = super().to_internal_value(data)
        if any(unicodedata.category(char) == "Cs" for char in value):
            raise serializers.ValidationError("Not valid Unicode text (it holds a lone surrogate).")
        if _REFUSED[self.lines].search(value):
            raise serializers.ValidationError("No control characters (escapes, NUL; one line where a name is asked).")
        return value


class IdField(serializers.IntegerField):
    """A row id: a whole number from 1."""

    def __init__(self, **kwargs) -> None:
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field(
    {
        "type": ["string", "null"],
        "maxLength": 150,
        "pattern": text_pattern(lines=False, allow_blank=False),
        "description": "An active user's username, or null for nobody.",
    }
)
class AssigneeField(TextField):
    """A username, given as the active user it names (null: nobody)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(lines=False, max_length=150, allow_null=True, **kwargs)

    def run_validation(self, data=serializers.empty):
        username = super().run_validation(data)  # the text checked (length, characters) before it is looked up
        if username is None:
            return None
        user = get_user_model()._default_manager.filter(username=username, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(f"No active user is named {username!r}.", code=UNKNOWN_REFERENCE)
        return user

    def to_representation(self, value) -> str:
        return value.get_username()
