"""OpenAPI links: where the ids in an answer lead (a list's first row to the row, a row to its runs, health or
violations). Documented for API clients, and followed by the stateful Schemathesis tests. A view lists them in
`openapi_links`, by action (viewsets) or HTTP method, and uses `LinkedAutoSchema`."""

from api.schema import AimsAutoSchema

FIRST_ROW_ID = "$response.body#/results/0/id"
ROW_ID = "$response.body#/id"


def link(operation_id: str, description: str, **parameters: str) -> dict:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


class LinkedAutoSchema(AimsAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        by_action: dict[str, dict] = getattr(self.view, "openapi_links", {})
        links = by_action.get(getattr(self.view, "action", None) or method.upper())
        if operation is not None and links:
            operation["responses"]["200"]["links"] = links
        return operation
