"""Appeasement errors and the commerce-agent error body (docs/api/ccagent.md).

Every error under ``/ccagent/`` answers ``{"errorCode", "message", "status", "errors": [...]}`` with the
seed's numeric codes (strings, as in Oracle Commerce's error model). :func:`ccagent_error_body` maps any
domain error onto those codes, so DRF's own errors, unknown URLs and crashes there use this body too.
"""

from __future__ import annotations

from typing import Any

from config.api.bounds import PAYLOAD_TOO_LARGE
from config.api.exception_handler import RepositoryError
from config.errors import DomainError, ErrorCode, InvalidStatusTransition, NotFound, ValidationFailed
from issues.errors import IssueErrorCode
from orders.errors import OrderErrorCode

PREFIX = "/ccagent/"

INVALID_INPUT = "13001"
INTERNAL_ERROR = "900000"
REPOSITORY_ERROR = "900001"
NOT_FOUND = "900002"
HOOK_ERROR = "900015"
HOOK_INVALID = "900016"
INVALID_REFUND_TYPE = "900017"
WRONG_STATE = "900036"
INVALID_SITE = "30014"
NOT_AUTHENTICATED = "401"
FORBIDDEN = "403"
PRECONDITION_FAILED = "412"
RATE_LIMITED = "429"

CC_CODES = {
    INVALID_INPUT: "The input is invalid (the message and `errors` name the field)",
    NOT_FOUND: "The appeasement id is invalid or not found",
    HOOK_ERROR: "The appeasementValidation webhook did not answer or failed",
    HOOK_INVALID: "The appeasement is invalid according to the appeasementValidation webhook",
    INVALID_REFUND_TYPE: "An invalid refundType was passed for an appeasement refund",
    WRONG_STATE: "The appeasement is not in a state that allows the operation",
    INVALID_SITE: "The site id passed in x-ccsite is invalid",
    INTERNAL_ERROR: "An internal error occurred",
    REPOSITORY_ERROR: "An internal error occurred with the repository (a database error)",
    NOT_AUTHENTICATED: "Missing or invalid Bearer token",
    FORBIDDEN: "The caller may not do this (also: agentId is not the caller)",
    PRECONDITION_FAILED: "If-Match is not the appeasement's current ETag; nothing was changed",
    RATE_LIMITED: "Too many writes from this caller; see Retry-After",
}

# Domain error codes of the other apps, in the seed's terms.
_BY_DOMAIN_CODE = {
    ErrorCode.VALIDATION_ERROR: INVALID_INPUT,
    ErrorCode.INVALID_FIELD_VALUE: INVALID_INPUT,
    ErrorCode.PARSE_ERROR: INVALID_INPUT,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: INVALID_INPUT,
    ErrorCode.NOT_ACCEPTABLE: INVALID_INPUT,
    ErrorCode.METHOD_NOT_ALLOWED: INVALID_INPUT,
    ErrorCode.DUPLICATE: INVALID_INPUT,
    OrderErrorCode.REFUND_PROCESSING_ERROR: INVALID_INPUT,
    OrderErrorCode.ORDER_NOT_FOUND: INVALID_INPUT,  # an unknown orderId in a body is invalid input
    ErrorCode.NOT_FOUND: NOT_FOUND,
    IssueErrorCode.ISSUE_NOT_FOUND: INVALID_INPUT,
    OrderErrorCode.ITEM_NOT_FOUND: INVALID_INPUT,
    ErrorCode.INVALID_STATUS_TRANSITION: WRONG_STATE,
    OrderErrorCode.ORDER_NOT_MODIFIABLE: WRONG_STATE,
    ErrorCode.CONCURRENT_UPDATE: WRONG_STATE,
    ErrorCode.AUTHENTICATION_REQUIRED: NOT_AUTHENTICATED,
    ErrorCode.AUTHENTICATION_FAILED: NOT_AUTHENTICATED,
    ErrorCode.PERMISSION_DENIED: FORBIDDEN,
    ErrorCode.PRECONDITION_FAILED: PRECONDITION_FAILED,
    ErrorCode.RATE_LIMITED: RATE_LIMITED,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: INVALID_INPUT,  # the message names the Idempotency-Key header
    PAYLOAD_TOO_LARGE: INVALID_INPUT,  # 413: the body is over API_MAX_BODY_BYTES
}


class AppeasementNotFound(NotFound):
    cc_code = NOT_FOUND
    default_message = "Appeasement not found"


class InvalidInput(ValidationFailed):
    """13001 naming the field (camelCase path, e.g. ``appeasementRefunds[0].amount``)."""

    cc_code = INVALID_INPUT


class InvalidRefundType(ValidationFailed):
    cc_code = INVALID_REFUND_TYPE


class WrongState(InvalidStatusTransition):
    cc_code = WRONG_STATE
    default_message = "The appeasement is not in a state that allows this operation"


class InvalidSite(DomainError):
    cc_code = INVALID_SITE
    status = 400
    default_message = "The site id in the x-ccsite header is invalid or the site was deleted"


class ValidationHookError(DomainError):
    cc_code = HOOK_ERROR
    status = 502
    default_message = "The appeasement validation webhook did not answer"


class ValidationHookRejected(DomainError):
    cc_code = HOOK_INVALID
    status = 400
    default_message = "The appeasement is invalid according to the validation webhook"


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def cc_code_for(err: DomainError) -> str:
    code = getattr(err, "cc_code", None)
    if code:
        return code
    if isinstance(err, RepositoryError):
        return REPOSITORY_ERROR
    if err.status >= 500:
        return INTERNAL_ERROR
    return _BY_DOMAIN_CODE.get(err.code, INVALID_INPUT if err.status < 500 else INTERNAL_ERROR)


def ccagent_error_body(err: DomainError, status: int) -> dict[str, Any]:
    code = cc_code_for(err)
    status_text = str(status)
    items: list[dict[str, Any]] = []
    if isinstance(err, ValidationFailed) and err.errors:
        for e in err.errors:
            field = _camel(e["field"])
            items.append(
                {"errorCode": code, "message": f"{field}: {e['error']}", "status": status_text, "field": field}
            )
        message = (
            items[0]["message"] if len(items) == 1 else f"{err.message}: " + "; ".join(i["message"] for i in items)
        )
    else:
        message = err.message
        field = _camel(str(err.extra["field"])) if err.extra.get("field") else None
        if field and field not in message:
            message = f"{field}: {message}"  # the message names the field, as for 13001
        item: dict[str, Any] = {"errorCode": code, "message": message, "status": status_text}
        if field:
            item["field"] = field
        items.append(item)
    body: dict[str, Any] = {"errorCode": code, "message": message, "status": status_text, "errors": items}
    for key in ("refundable_amount", "current_state", "reason"):
        if key in err.extra and err.extra[key] is not None:
            body[_camel(key)] = err.extra[key]
    return body


def register() -> None:
    from config.api.exception_handler import register_dialect

    register_dialect(PREFIX, ccagent_error_body)
