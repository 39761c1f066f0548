"""drf-spectacular postprocessing: answers every paginated operation can give, documented once."""

PAGE_400 = {
    "description": "VALIDATION_ERROR: a page, page size or filter parameter is malformed or unknown",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}
PAGE_404 = {
    "description": "NOT_FOUND: the page is past the last one",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
}


def document_pagination_errors(result, generator, request, public):
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            names = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
            if "page" in names:
                operation.setdefault("responses", {}).setdefault("400", PAGE_400)
                operation["responses"].setdefault("404", PAGE_404)
    return result


# The API boundary (config.api.middleware, config.api.parsers): answers any operation can give, in its dialect.
_DIALECT_ERROR_SCHEMAS = (
    ("/api/v1/", "ErrorBody"),
    ("/api-order/", "FabricError"),
    ("/ccagent/", "CCError"),
)
_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _error(schema: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def document_boundary_errors(result, generator, request, public):
    """413 (body over ``API_MAX_BODY_BYTES``), 400 (JSON nested too deep, a control character in a query
    parameter), 404 (a control character in the path) and 500 (ccagent 900000, or 900001 for a database error)
    on every operation of the three dialects, in the dialect's error body."""
    from django.conf import settings

    from config.api.bounds import DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_JSON_DEPTH

    size = getattr(settings, "API_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
    depth = getattr(settings, "API_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH)
    for path, item in result.get("paths", {}).items():
        schema = next((name for prefix, name in _DIALECT_ERROR_SCHEMAS if path.startswith(prefix)), None)
        if schema is None:
            continue
        cc = schema == "CCError"
        for method, operation in item.items():
            if method not in _METHODS or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            params = operation.get("parameters", [])
            if operation.get("requestBody"):
                responses.setdefault(
                    "413",
                    _error(schema, f"{'13001' if cc else 'PAYLOAD_TOO_LARGE'}: the body is over {size} bytes"),
                )
                responses.setdefault(
                    "400", _error(schema, f"The body is not JSON, or is nested deeper than {depth} levels")
                )
            if any(p.get("in") == "query" for p in params):
                responses.setdefault("400", _error(schema, "A query parameter is invalid (e.g. a control character)"))
            if any(p.get("in") == "path" for p in params):
                responses.setdefault("404", _error(schema, "Not found (also: a control character in the path)"))
            responses["500"] = _error(
                schema,
                "900000: unexpected error; 900001: a repository (database) error"
                if cc
                else "INTERNAL_ERROR: unexpected error (its details are logged, never answered)",
            )
    return result
