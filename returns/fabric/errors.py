"""The fabric API's one error body: ``{"code", "message", "field"?, "errors"?, "orderId"?, "currentStatus"?}``.

Registered for every path under ``/api-order/`` (see ``ReturnsConfig.ready``), so DRF's own errors,
unknown URLs and crashes there answer in this body too, never a DRF default body or HTML.
"""

from __future__ import annotations

from typing import Any

from config.errors import DomainError, ValidationFailed

PREFIX = "/api-order/"


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def fabric_error_body(err: DomainError, status: int) -> dict[str, Any]:
    from returns.fabric.statuses import ORDER_STATUS_TABLE

    body: dict[str, Any] = {"code": str(err.code), "message": err.message}
    if isinstance(err, ValidationFailed) and err.errors:
        errors = [{"field": _camel(e["field"]), "message": e["error"]} for e in err.errors]
        body["message"] = errors[0]["message"]
        body["field"] = errors[0]["field"]
        body["errors"] = errors
    elif err.extra.get("field"):
        body["field"] = _camel(str(err.extra["field"]))
    if err.extra.get("order_id"):
        body["orderId"] = err.extra["order_id"]
    current = err.extra.get("current_status")
    if current in ORDER_STATUS_TABLE:
        body["currentStatus"] = ORDER_STATUS_TABLE[current][0]
    return body


def register() -> None:
    from config.api.exception_handler import register_dialect

    register_dialect(PREFIX, fabric_error_body)
