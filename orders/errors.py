"""Domain errors of orders and the refund ledger (rendered by whichever API dialect the request came through:
``config.api.exception_handler`` for the back office, ``returns.fabric`` and ``appeasements.errors`` translate)."""

from __future__ import annotations

from enum import StrEnum

from config.errors import Conflict, DomainError, NotFound


class OrderErrorCode(StrEnum):
    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ITEM_NOT_FOUND = "ITEM_NOT_FOUND"
    ORDER_NOT_MODIFIABLE = "ORDER_NOT_MODIFIABLE"
    REFUND_PROCESSING_ERROR = "REFUND_PROCESSING_ERROR"


class OrderNotFound(NotFound):
    code = OrderErrorCode.ORDER_NOT_FOUND
    default_message = "Order not found"


class ItemNotFound(NotFound):
    code = OrderErrorCode.ITEM_NOT_FOUND
    default_message = "Order item not found"


class OrderNotModifiable(Conflict):
    code = OrderErrorCode.ORDER_NOT_MODIFIABLE
    default_message = "Order cannot be modified in current status"


class RefundProcessingError(DomainError):
    """The ledger refused a refund (``orders.ledger.refund_checked``); ``refundable_amount`` says what is left."""

    code = OrderErrorCode.REFUND_PROCESSING_ERROR
    status = 422
    default_message = "Refund could not be processed"
