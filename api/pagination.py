"""Keyset (cursor) pagination for every list: `limit` (1-200, default 50), `sort` among the view's sort keys, and
opaque `next`/`previous` links. Pages stay fast however deep, and rows added meanwhile are neither skipped nor
repeated."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

INVALID_CURSOR = {"cursor": "Not a cursor this list gave out; start again without it."}


class KeysetPagination(CursorPagination):
    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"
    ordering = "-id"
    # Sorting is given by `sort` (a key of the view's `sort_keys`), mapped to a unique-ending ordering.
    ordering_param = "sort"

    def decode_cursor(self, request: Request):
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError(INVALID_CURSOR) from None

    def paginate_queryset(self, queryset, request: Request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise ValidationError(INVALID_CURSOR) from None  # a forged position that is not of the sort's type

    def get_ordering(self, request: Request, queryset, view) -> tuple[str, ...]:
        sort_keys: dict[str, tuple[str, ...]] = getattr(view, "sort_keys", {"-id": ("-id",), "id": ("id",)})
        default = getattr(view, "default_sort", next(iter(sort_keys)))
        sort = request.query_params.get(self.ordering_param, default)
        if sort not in sort_keys:
            raise ValidationError({"sort": f"Sort by one of: {', '.join(sort_keys)}."})
        return sort_keys[sort]

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError({"limit": f"A whole number from 1 to {self.max_page_size}."})
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        sort_keys = list(getattr(view, "sort_keys", {"-id": ("-id",), "id": ("id",)}))
        return [
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "description": "The page to read: the cursor of a `next` or `previous` link.",
                "schema": {"type": "string"},
            },
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "description": f"Rows per page (1-{self.max_page_size}, default {self.page_size}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_page_size},
            },
            {
                "name": "sort",
                "required": False,
                "in": "query",
                "description": "Order of the rows.",
                "schema": {"type": "string", "enum": sort_keys},
            },
        ]
