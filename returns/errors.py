"""Domain errors of returns (rendered by whichever API dialect the request came through)."""

from __future__ import annotations

from enum import StrEnum

from config.errors import Conflict, DomainError


class ReturnErrorCode(StrEnum):
    INVALID_RETURN_CODE = "INVALID_RETURN_CODE"
    ORDER_NOT_RETURNABLE = "ORDER_NOT_RETURNABLE"
    ALREADY_RETURNED = "ALREADY_RETURNED"
    ORDER_NOT_CANCELLABLE = "ORDER_NOT_CANCELLABLE"
    ALREADY_CANCELLED = "ALREADY_CANCELLED"
    INVALID_API_KEY = "INVALID_API_KEY"
    API_KEY_REQUIRED = "API_KEY_REQUIRED"
    INVALID_SITE_CONTEXT = "INVALID_SITE_CONTEXT"
    ACCOUNT_MISMATCH = "ACCOUNT_MISMATCH"


class UnknownReasonCode(DomainError):
    """A return or cancellation code that is not in the managed list (or is inactive)."""

    code = ReturnErrorCode.INVALID_RETURN_CODE
    status = 400
    default_message = "Unknown return code"


class OrderNotReturnable(Conflict):
    code = ReturnErrorCode.ORDER_NOT_RETURNABLE
    default_message = "The order cannot be returned in its current status"


class AlreadyReturned(Conflict):
    code = ReturnErrorCode.ALREADY_RETURNED
    default_message = "The order has already been returned"


class OrderNotCancellable(Conflict):
    code = ReturnErrorCode.ORDER_NOT_CANCELLABLE
    default_message = "The order cannot be cancelled once it has shipped"

    def __init__(self, message: str | None = None, **extra) -> None:
        status = extra.get("current_status")
        if message is None and status is not None and status not in ("pending", "accepted", "in_progress"):
            message = f"The order cannot be cancelled: it is {str(status).replace('_', ' ')}"
        super().__init__(message, **extra)


class AlreadyCancelled(Conflict):
    code = ReturnErrorCode.ALREADY_CANCELLED
    default_message = "The order has already been cancelled"


class ApiKeyRequired(DomainError):
    code = ReturnErrorCode.API_KEY_REQUIRED
    status = 401
    default_message = "The x-api-key header is required"


class InvalidApiKey(DomainError):
    code = ReturnErrorCode.INVALID_API_KEY
    status = 401
    default_message = "The API key is not valid, revoked or expired"


class InvalidSiteContext(DomainError):
    code = ReturnErrorCode.INVALID_SITE_CONTEXT
    status = 400
    default_message = "The x-site-context header is not valid"


class AccountMismatch(DomainError):
    code = ReturnErrorCode.ACCOUNT_MISMATCH
    status = 403
    default_message = "The API key does not belong to the account in x-site-context"
