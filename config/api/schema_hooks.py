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
