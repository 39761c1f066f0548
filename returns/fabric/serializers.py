"""Shapes of the fabric-compatible order API (camelCase, seed 002).

``fabric_order(order)`` is the one place that builds the seed's order object from our data. Fields
our data cannot fill are left out (or are empty lists: ``tags``, ``events``, ``attributes`` ...),
never invented. The order needs ``items__category``, ``payments``, ``shipments`` and
``status_descriptions`` prefetched (``returns.fabric.views.fabric_order_queryset``).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import MoneyField, StrictInputSerializer
from orders.models import Order
from returns.fabric.statuses import (
    FABRIC_ORDER_STATUSES,
    PAYMENT_STATUS_TABLE,
    SHIPMENT_STATUS_TABLE,
    fabric_status,
    fabric_status_log,
)

SHIP_TO_ID = 1  # our orders have one ship-to address; items, shipments and payments point at it


# ----------------------------------------------------------------- input


class StrictBooleanField(serializers.BooleanField):
    """Only JSON ``true``/``false``: ``"yes"`` or ``1`` is a type error, not a guess."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class ReturnInput(StrictInputSerializer):
    returnCode = serializers.CharField(max_length=16)  # noqa: N815 - the contract's names
    orderId = serializers.CharField(max_length=40)  # noqa: N815
    returnMessage = serializers.CharField(max_length=1000, required=False, allow_blank=True)  # noqa: N815
    sugarRefund = StrictBooleanField(required=False, default=False)  # noqa: N815


class CancelInput(StrictInputSerializer):
    cancellationCode = serializers.CharField(max_length=16)  # noqa: N815
    orderId = serializers.CharField(max_length=40)  # noqa: N815
    cancellationMessage = serializers.CharField(max_length=1000, required=False, allow_blank=True)  # noqa: N815


# ----------------------------------------------------------------- output


class IsoMillisField(serializers.DateTimeField):
    """``2021-09-22T11:05:48.210Z``: UTC, milliseconds, ``Z`` (the seed's format)."""

    def to_representation(self, value):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class ItemIdField(serializers.Field):
    """The seed's ``itemId`` is a number; ours is a free string: a number when it is all digits."""

    def to_representation(self, value):
        return int(value) if isinstance(value, str) and value.isdigit() else value


class NameOut(serializers.Serializer):
    first = serializers.CharField()
    last = serializers.CharField()


class PhoneOut(serializers.Serializer):
    number = serializers.CharField()


class AddressOut(serializers.Serializer):
    name = NameOut()
    phone = PhoneOut(required=False)
    email = serializers.CharField(required=False)
    street1 = serializers.CharField()
    street2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    country = serializers.CharField()
    zipCode = serializers.CharField()  # noqa: N815
    kind = serializers.CharField()


class ShipToOut(serializers.Serializer):
    address = AddressOut()
    shipToId = serializers.IntegerField()  # noqa: N815
    shipToType = serializers.CharField()  # noqa: N815
    currency = serializers.CharField()
    promosApplied = serializers.ListField(child=serializers.DictField(), default=list)  # noqa: N815


class StatusDescriptionOut(serializers.Serializer):
    _id = serializers.CharField()
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=FABRIC_ORDER_STATUSES)
    code = serializers.CharField()
    description = serializers.CharField()
    date = IsoMillisField()


class ItemOut(serializers.Serializer):
    _id = serializers.CharField(help_text="The order item's UUID")
    id = serializers.CharField(help_text="The order item's UUID")
    lineItemId = serializers.IntegerField()  # noqa: N815
    itemId = ItemIdField(required=False)  # noqa: N815
    sku = serializers.CharField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    price = MoneyField()
    discount = MoneyField()
    currency = serializers.CharField()
    shipToId = serializers.IntegerField()  # noqa: N815
    estimatedTax = MoneyField()  # noqa: N815
    total = MoneyField()
    group = serializers.ListField(child=serializers.CharField())
    promosApplied = serializers.ListField(child=serializers.DictField())  # noqa: N815
    attributes = serializers.ListField(child=serializers.JSONField())
    reservedLocation = serializers.ListField(child=serializers.JSONField())  # noqa: N815


class ShipmentOut(serializers.Serializer):
    shippedDate = IsoMillisField(required=False)  # noqa: N815
    shipToId = serializers.IntegerField()  # noqa: N815
    shipmentCarrier = serializers.CharField()  # noqa: N815
    trackingNumber = serializers.CharField()  # noqa: N815
    shipmentStatus = serializers.ChoiceField(choices=list(SHIPMENT_STATUS_TABLE.values()))  # noqa: N815


class PaymentOut(serializers.Serializer):
    _id = serializers.CharField(help_text="The payment group id")
    id = serializers.CharField(help_text="The payment group id")
    shipToId = serializers.ListField(child=serializers.IntegerField())  # noqa: N815
    paymentMethod = serializers.CharField()  # noqa: N815
    amount = MoneyField()
    currency = serializers.CharField()
    paymentStatus = serializers.ChoiceField(choices=list(PAYMENT_STATUS_TABLE.values()))  # noqa: N815


class FabricOrder(serializers.Serializer):
    tags = serializers.ListField(child=serializers.JSONField())
    channel = serializers.IntegerField()
    orderTotal = MoneyField()  # noqa: N815
    taxTotal = MoneyField()  # noqa: N815
    orderCurrency = serializers.CharField()  # noqa: N815
    status = serializers.ChoiceField(choices=FABRIC_ORDER_STATUSES)
    statusLog = serializers.CharField()  # noqa: N815
    customerUserId = serializers.CharField(required=False)  # noqa: N815
    customerAccountId = serializers.CharField()  # noqa: N815
    customerPhone = PhoneOut(required=False)  # noqa: N815
    orderId = serializers.CharField()  # noqa: N815
    revision = serializers.IntegerField()
    totalQuantity = serializers.IntegerField()  # noqa: N815
    statusDescriptions = StatusDescriptionOut(many=True)  # noqa: N815
    events = serializers.ListField(child=serializers.JSONField())
    attributes = serializers.ListField(child=serializers.JSONField())
    createdAt = IsoMillisField()  # noqa: N815
    updatedAt = IsoMillisField()  # noqa: N815
    shipTo = ShipToOut(many=True)  # noqa: N815
    items = ItemOut(many=True)
    shipments = ShipmentOut(many=True)
    payments = PaymentOut(many=True)


class OrderActionOutput(serializers.Serializer):
    orderId = serializers.CharField()  # noqa: N815
    status = serializers.CharField(help_text="`Successfully Returned order` / `Successfully Cancelled order`")
    order = FabricOrder()


class FabricErrorItem(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class FabricError(serializers.Serializer):
    """The fabric API's error body (every 4xx/5xx under ``/api-order/``)."""

    code = serializers.CharField(
        help_text="API_KEY_REQUIRED, INVALID_API_KEY (401); ACCOUNT_MISMATCH (403); INVALID_SITE_CONTEXT, "
        "VALIDATION_ERROR, PARSE_ERROR, INVALID_RETURN_CODE (400); ORDER_NOT_FOUND, NOT_FOUND (404); "
        "METHOD_NOT_ALLOWED (405); ORDER_NOT_RETURNABLE, ALREADY_RETURNED, ORDER_NOT_CANCELLABLE, "
        "ALREADY_CANCELLED, CONCURRENT_UPDATE (409); UNSUPPORTED_MEDIA_TYPE (415); REFUND_PROCESSING_ERROR (422)"
    )
    message = serializers.CharField()
    field = serializers.CharField(required=False, help_text="The offending header or body field, when there is one")
    errors = FabricErrorItem(many=True, required=False, help_text="Every field problem (validation errors)")
    orderId = serializers.CharField(required=False)  # noqa: N815
    currentStatus = serializers.ChoiceField(choices=FABRIC_ORDER_STATUSES, required=False)  # noqa: N815


# ----------------------------------------------------------------- building the order object


def fabric_order(order: Order) -> dict[str, Any]:
    """The seed's order object for ``order`` (a dict of serialized JSON values)."""
    return FabricOrder(_order_source(order)).data


def _order_source(order: Order) -> dict[str, Any]:
    items = list(order.items.all())
    name = {"first": order.customer_first_name, "last": order.customer_last_name}
    phone = {"number": order.customer_phone} if order.customer_phone else None
    data: dict[str, Any] = {
        "tags": [],
        "channel": order.channel,
        "orderTotal": order.order_total,
        "taxTotal": order.tax_total,
        "orderCurrency": order.currency,
        "status": fabric_status(order.status),
        "statusLog": fabric_status_log(order.status),
        "customerAccountId": order.account,
        "orderId": order.order_id,
        "revision": order.revision,
        "totalQuantity": sum(i.quantity for i in items),
        "statusDescriptions": [
            {
                "_id": d.entry_id,
                "id": d.entry_id,
                "status": fabric_status(d.status),
                "code": d.code,
                "description": d.description,
                "date": d.created_at,
            }
            for d in order.status_descriptions.all()
        ],
        "events": [],
        "attributes": [],
        "createdAt": order.created_at,
        "updatedAt": order.updated_at,
        "shipTo": [],
        "items": [
            {
                "_id": str(i.order_item_id),
                "id": str(i.order_item_id),
                "lineItemId": i.line_number,
                "sku": i.sku,
                "title": i.store_item_name,
                "quantity": i.quantity,
                "price": i.unit_price,
                "discount": i.discount,
                "currency": order.currency,
                "shipToId": SHIP_TO_ID,
                "estimatedTax": i.tax,
                "total": i.line_total,
                "group": [i.category.name] if i.category_id else [],
                "promosApplied": [],
                "attributes": [],
                "reservedLocation": [],
                **({"itemId": i.item_id} if i.item_id else {}),
            }
            for i in items
        ],
        "shipments": [
            {
                "shipToId": SHIP_TO_ID,
                "shipmentCarrier": s.carrier,
                "trackingNumber": s.tracking_number,
                "shipmentStatus": SHIPMENT_STATUS_TABLE[s.status],
                **({"shippedDate": s.shipped_date} if s.shipped_date else {}),
            }
            for s in order.shipments.all()
        ],
        "payments": [
            {
                "_id": p.payment_group_id,
                "id": p.payment_group_id,
                "shipToId": [SHIP_TO_ID],
                "paymentMethod": p.payment_method,
                "amount": p.amount,
                "currency": p.currency,
                "paymentStatus": PAYMENT_STATUS_TABLE[p.status],
            }
            for p in order.payments.all()
        ],
    }
    if order.customer_id:
        data["customerUserId"] = order.customer_id
    if phone:
        data["customerPhone"] = phone
    ship_to = (order.ship_to_street1, order.ship_to_street2, order.ship_to_city, order.ship_to_zip_code)
    if any(ship_to) or order.ship_to_country:
        address: dict[str, Any] = {
            "name": name,
            "street1": order.ship_to_street1,
            "street2": order.ship_to_street2,
            "city": order.ship_to_city,
            "state": order.ship_to_state,
            "country": order.ship_to_country,
            "zipCode": order.ship_to_zip_code,
            "kind": "Ship to address",
        }
        if phone:
            address["phone"] = phone
        if order.customer_email:
            address["email"] = order.customer_email
        data["shipTo"] = [
            {
                "address": address,
                "shipToId": SHIP_TO_ID,
                "shipToType": "SHIP_TO_ADDRESS",
                "currency": order.currency,
                "promosApplied": [],
            }
        ]
    return data
