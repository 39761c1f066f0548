"""The domain error base and the errors every app shares: services raise these; each API dialect renders them.
Each app's own errors live in its ``errors.py`` (``orders.errors``, ``issues.errors``, ``returns.errors``,
``appeasements.errors``), with its codes as an enum.

Every error has a stable ``code`` (the back-office ``error_code``), an HTTP ``status``, a human
``message`` and ``extra`` context that is merged into the error body (``current_status``,
``allowed_transitions``, ``refundable_amount``, ``validation_errors`` ...).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    VALIDATION_ERROR = "VALIDATION_ERROR"
    INVALID_FIELD_VALUE = "INVALID_FIELD_VALUE"
    NOT_FOUND = "NOT_FOUND"
    INVALID_STATUS_TRANSITION = "INVALID_STATUS_TRANSITION"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    AUTHENTICATION_REQUIRED = "AUTHENTICATION_REQUIRED"
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"
    CONCURRENT_UPDATE = "CONCURRENT_UPDATE"
    DUPLICATE = "DUPLICATE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    PARSE_ERROR = "PARSE_ERROR"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    RATE_LIMITED = "RATE_LIMITED"
    PRECONDITION_FAILED = "PRECONDITION_FAILED"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class DomainError(Exception):
    code: str = ErrorCode.INTERNAL_ERROR  # an app's own code enum (a StrEnum) or ErrorCode
    status: int = 500
    default_message: str = "Unexpected error"

    def __init__(self, message: str | None = None, **extra: Any) -> None:
        self.message = message or self.default_message
        self.extra = extra
        super().__init__(self.message)

    def __str__(self) -> str:  # pragma: no cover - debugging aid
        return f"{self.code}: {self.message} {self.extra or ''}".strip()


class ValidationFailed(DomainError):
    """Field problems: ``errors`` is a list of ``{"field", "error"}``."""

    code = ErrorCode.VALIDATION_ERROR
    status = 400
    default_message = "Field validation failed"

    def __init__(self, errors: list[dict[str, str]], message: str | None = None, **extra: Any) -> None:
        super().__init__(message, validation_errors=errors, **extra)
        self.errors = errors

    @classmethod
    def single(cls, field: str, error: str) -> ValidationFailed:
        return cls([{"field": field, "error": error}])


class InvalidFieldValue(DomainError):
    code = ErrorCode.INVALID_FIELD_VALUE
    status = 400
    default_message = "Invalid value provided for field"

    def __init__(self, field: str, provided_value: Any, message: str | None = None) -> None:
        super().__init__(message, field=field, provided_value=provided_value)


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND
    status = 404
    default_message = "Not found"


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    status = 403
    default_message = "You do not have permission to perform this action"


class Conflict(DomainError):
    status = 409


class InvalidStatusTransition(Conflict):
    code = ErrorCode.INVALID_STATUS_TRANSITION
    default_message = "Invalid status transition"


class ConcurrentUpdate(Conflict):
    code = ErrorCode.CONCURRENT_UPDATE
    default_message = "The record was changed by someone else; reload it and try again"


class Duplicate(Conflict):
    code = ErrorCode.DUPLICATE
    default_message = "A record with this identifier already exists"


class PreconditionFailed(DomainError):
    """``If-Match`` named a revision that is no longer current: nothing was changed."""

    code = ErrorCode.PRECONDITION_FAILED
    status = 412
    default_message = "The record was changed since you read it (If-Match does not match its ETag); reload it"


class IdempotencyKeyReused(DomainError):
    """The ``Idempotency-Key`` was already used for a different request."""

    code = ErrorCode.IDEMPOTENCY_KEY_REUSED
    status = 422
    default_message = "This Idempotency-Key was already used with a different request body"
