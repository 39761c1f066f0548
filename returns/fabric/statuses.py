"""The one table mapping our order statuses to the fabric API's ``ORDER_…`` names and ``statusLog`` texts.

| our status           | fabric ``status``          | ``statusLog``                         |
| -------------------- | -------------------------- | ------------------------------------- |
| pending              | ORDER_CREATED              | Order has been Created                |
| accepted             | ORDER_ACCEPTED             | Order has been Accepted               |
| in_progress          | ORDER_IN_PROGRESS          | Order is In Progress                  |
| completed            | ORDER_DELIVERED            | Order has been Delivered              |
| canceled             | ORDER_CANCELLED            | Order has been Cancelled              |
| partially_returned   | ORDER_PARTIALLY_RETURNED   | Order has been Partially Returned     |
| returned             | ORDER_RETURNED             | Order has been Returned               |

``completed`` is "the order was delivered" in our workflow, hence ``ORDER_DELIVERED``.
Shipments and payments keep their own small maps below.
"""

from __future__ import annotations

from orders.models import OrderStatus, PaymentStatus, ShipmentStatus

ORDER_STATUS_TABLE: dict[str, tuple[str, str]] = {
    OrderStatus.PENDING: ("ORDER_CREATED", "Order has been Created"),
    OrderStatus.ACCEPTED: ("ORDER_ACCEPTED", "Order has been Accepted"),
    OrderStatus.IN_PROGRESS: ("ORDER_IN_PROGRESS", "Order is In Progress"),
    OrderStatus.COMPLETED: ("ORDER_DELIVERED", "Order has been Delivered"),
    OrderStatus.CANCELED: ("ORDER_CANCELLED", "Order has been Cancelled"),
    OrderStatus.PARTIALLY_RETURNED: ("ORDER_PARTIALLY_RETURNED", "Order has been Partially Returned"),
    OrderStatus.RETURNED: ("ORDER_RETURNED", "Order has been Returned"),
}

FABRIC_ORDER_STATUSES = [name for name, _log in ORDER_STATUS_TABLE.values()]

SHIPMENT_STATUS_TABLE: dict[str, str] = {
    ShipmentStatus.PENDING: "ORDER_SHIPMENT_PENDING",
    ShipmentStatus.SHIPPED: "ORDER_SHIPPED",
    ShipmentStatus.IN_TRANSIT: "ORDER_IN_TRANSIT",
    ShipmentStatus.DELIVERED: "ORDER_DELIVERED",
    ShipmentStatus.RETURNED: "ORDER_RETURNED",
}

PAYMENT_STATUS_TABLE: dict[str, str] = {value: label for value, label in PaymentStatus.choices}


def fabric_status(status: str) -> str:
    return ORDER_STATUS_TABLE[status][0]


def fabric_status_log(status: str) -> str:
    return ORDER_STATUS_TABLE[status][1]
