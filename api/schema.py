"""The OpenAPI document's AIMS parts: each operation's scope and role permissions (`x-aims-scope`,
`x-aims-permissions`, read by the generated access tests), the bearer-key security scheme, and the problem answers
every operation may give."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

from api.permissions import access_for

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "description": "urn:aims:problem:<code>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable; programs branch on it."},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
# The problems any operation may answer, and those of writes, of POSTs and of conditional updates.
COMMON_PROBLEMS = {
    "400": "Invalid request",
    "401": "Not authenticated",
    "403": "Forbidden",
    "404": "Not found",
    "405": "Method not allowed",
    "406": "Not acceptable",
    "429": "Too many requests",
}
WRITE_PROBLEMS = {"409": "Conflict", "415": "Unsupported media type", "422": "Unprocessable"}
PATCH_PROBLEMS = {"412": "Changed since read (stale If-Match)", "428": "If-Match required"}


class AimsAutoSchema(AutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        rule = access_for(self.view, method)
        if rule is not None:
            operation["x-aims-scope"] = rule.scope
            operation["x-aims-permissions"] = list(rule.permissions)
        return operation


class BearerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BearerKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "An AIMS API key: `Authorization: Bearer aims_…`."}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "api.auth.BrowserSessionAuthentication"
    name = "session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid", "description": "A signed-in browser (CSRF)."}


def problem_responses_hook(result, generator, request, public):
    """Document the problem answers on every operation (application/problem+json), and the RateLimit headers."""
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    reference = {"$ref": "#/components/schemas/Problem"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            problems = dict(COMMON_PROBLEMS)
            if method in {"post", "patch", "put", "delete"}:
                problems.update(WRITE_PROBLEMS)
            if method in {"patch", "put"}:
                problems.update(PATCH_PROBLEMS)
            responses = operation.setdefault("responses", {})
            for code, description in problems.items():
                responses.setdefault(
                    code, {"description": description, "content": {"application/problem+json": {"schema": reference}}}
                )
    return result
