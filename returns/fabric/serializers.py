"""Shapes of the fabric-compatible order API (camelCase, the fabric contract).

``fabric_order(order)`` is the one place that builds the seed's order object from our data: every key of the
seed's example order, at every level, with the seed's JSON type (``tests/returns/seed002_order.json`` and the
key-by-key walk in ``tests/returns/test_fabric_seed_order.py``). What the order has no data for is never
invented:

- text it lacks is ``""`` (``street2``, ``taxCode``, ``shipmentMethod``, ``paymentKind``, ``weightUnit`` ...);
- lists it lacks are ``[]`` (``tags``, ``events``, ``promosApplied``, ``lineItems``, ``reservedLocation`` ...;
  ``readyForPickups`` always: our ship-tos are addresses, never pickups);
- a number or date it lacks is left out, as are objects without data: ``customerUserId``, ``customerPhone``,
  ``phone`` and ``email`` of an address, ``itemId``, ``weight``, ``shippedDate``, ``promisedDeliveryDate``,
  ``billToAddress`` with ``billToId``; ``delivery``, ``shipping``, ``paymentIdentifier`` and ``paymentToken``
  stay as empty objects (``{}``) until there is an ``actual`` date, a card or a token;
- ``shipTo`` is empty for an order with neither an address nor shipping data.

``_id``/``id`` are stable: the order's, its ship-to's, its shipments' and their lines' are 24-hex ids generated
once (``orders.models.new_object_id``); an item's is its UUID, a payment's its payment group id, a status entry's
its entry id. ``__v`` is always 0 (the version key of the fabric documents; the order's revision is
``revision`` and its ETag). Our orders have one ship-to (``shipToId`` 1), priced and taxed on the order.

The order's ``items__category``, ``payments``, ``shipments__lines``, ``promotions`` and ``status_descriptions``
are prefetched here when the caller has not (``FABRIC_PREFETCH``): a fixed number of queries per order.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import MoneyField, StrictInputSerializer
from orders.models import Order, OrderItem, Payment, ShipmentStatus
from returns.fabric.statuses import (
    FABRIC_ORDER_STATUSES,
    PAYMENT_STATUS_TABLE,
    SHIPMENT_STATUS_TABLE,
    fabric_status,
    fabric_status_log,
)

SHIP_TO_ID = 1  # our orders have one ship-to address; items, shipments and payments point at it
SHIP_TO_STATUSES = [label for _value, label in ShipmentStatus.choices]  # a ship-to's shipmentStatus ("Delivered")


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


@extend_schema_field({"type": "number"})
class NumberField(serializers.Field):
    """A Decimal that is not money (a weight, a conversion rate): a JSON number without trailing zeros (``10``,
    ``1.25``), never in exponent form."""

    def to_representation(self, value):
        value = Decimal(value)
        return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


@extend_schema_field({"oneOf": [{"type": "integer"}, {"type": "string"}]})
class TokenField(serializers.Field):
    """The seed's ``paymentToken.token`` is a number: ours is one when it is all digits and a JSON client reads it
    exactly (at most 15 digits); any other token reference stays a string."""

    def to_representation(self, value):
        return int(value) if value.isdigit() and len(value) <= 15 else value


@extend_schema_field({"type": "integer"})
class CardIdentifierField(serializers.Field):
    """The card's last four digits as the seed's number (``4242``; ``0042`` is ``42``: pad to four digits)."""

    def to_representation(self, value):
        return int(value)


class NameOut(serializers.Serializer):
    first = serializers.CharField()
    middle = serializers.CharField()
    last = serializers.CharField()


class PhoneOut(serializers.Serializer):
    number = serializers.CharField()
    kind = serializers.CharField(help_text="mobile, home, work, other; empty when unknown")


class AddressOut(serializers.Serializer):
    name = NameOut()
    phone = PhoneOut(required=False)
    isValidated = serializers.BooleanField()  # noqa: N815
    email = serializers.CharField(required=False)
    street1 = serializers.CharField()
    street2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    country = serializers.CharField()
    zipCode = serializers.CharField()  # noqa: N815
    kind = serializers.CharField(help_text="`Ship to address` / `Bill to address`")


class ActualOut(serializers.Serializer):
    actual = IsoMillisField(required=False, help_text="When it happened; absent until it has")


class PromoOut(serializers.Serializer):
    name = serializers.CharField()


class ShipToOut(serializers.Serializer):
    address = AddressOut()
    delivery = ActualOut(help_text="`actual`: when the last of its shipments was delivered")
    shipping = ActualOut(help_text="`actual`: when the first of its shipments left")
    promosApplied = PromoOut(many=True, help_text="Promotions on the shipping")  # noqa: N815
    _id = serializers.CharField(help_text="The ship-to's 24-hex id")
    shipToId = serializers.IntegerField()  # noqa: N815
    shipToType = serializers.CharField()  # noqa: N815
    price = MoneyField(help_text="Shipping price, before tax")
    currency = serializers.CharField()
    estimatedTax = MoneyField()  # noqa: N815
    committedTax = MoneyField()  # noqa: N815
    total = MoneyField(help_text="price + estimatedTax")
    taxCode = serializers.CharField()  # noqa: N815
    shipmentCarrier = serializers.CharField(help_text="The carrier the customer chose")  # noqa: N815
    shipmentMethod = serializers.CharField()  # noqa: N815
    shipmentMethodId = serializers.CharField()  # noqa: N815
    promisedDeliveryDate = IsoMillisField(required=False)  # noqa: N815
    shipmentInstructions = serializers.CharField()  # noqa: N815
    shipmentStatus = serializers.ChoiceField(  # noqa: N815
        choices=SHIP_TO_STATUSES, help_text="From its shipments: the least advanced one (Pending without any)"
    )
    readyForPickups = serializers.ListField(  # noqa: N815
        child=serializers.JSONField(), help_text="Always empty: our ship-tos are addresses, never pickups"
    )
    id = serializers.CharField(help_text="The ship-to's 24-hex id")


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
    taxCode = serializers.CharField()  # noqa: N815
    weight = NumberField(required=False, help_text="Absent when unknown")
    weightUnit = serializers.CharField(help_text="lb, oz, kg, g; empty when unknown")  # noqa: N815
    group = serializers.ListField(child=serializers.CharField(), help_text="Its category, then its item group")
    promosApplied = PromoOut(many=True)  # noqa: N815
    attributes = serializers.ListField(child=serializers.JSONField())
    reservedLocation = serializers.ListField(  # noqa: N815
        child=serializers.JSONField(), help_text="The location reserving its stock (a string), when there is one"
    )


class LineItemOut(serializers.Serializer):
    _id = serializers.CharField()
    lineItemId = serializers.IntegerField()  # noqa: N815
    quantity = serializers.IntegerField()
    id = serializers.CharField()


class ShipmentOut(serializers.Serializer):
    _id = serializers.CharField(help_text="The shipment's 24-hex id")
    shippedDate = IsoMillisField(required=False)  # noqa: N815
    shipToId = serializers.IntegerField()  # noqa: N815
    shipmentCarrier = serializers.CharField()  # noqa: N815
    shipmentCarrierUrl = serializers.CharField(help_text="The carrier's tracking page; empty when unknown")  # noqa: N815
    trackingNumber = serializers.CharField()  # noqa: N815
    lineItems = LineItemOut(many=True, help_text="What it carried: a quantity of an order line")  # noqa: N815
    shipmentStatus = serializers.ChoiceField(choices=list(SHIPMENT_STATUS_TABLE.values()))  # noqa: N815
    id = serializers.CharField(help_text="The shipment's 24-hex id")


class CardIdentifierOut(serializers.Serializer):
    cardIdentifier = CardIdentifierField(required=False, help_text="The card's last four digits")  # noqa: N815


class PaymentTokenOut(serializers.Serializer):
    token = TokenField(required=False, help_text="The processor's token reference")


class PaymentOut(serializers.Serializer):
    billToAddress = AddressOut(required=False, help_text="Absent when the payment has no billing address")  # noqa: N815
    shipToId = serializers.ListField(child=serializers.IntegerField())  # noqa: N815
    _id = serializers.CharField(help_text="The payment group id")
    billToId = serializers.IntegerField(required=False, help_text="With billToAddress: its number")  # noqa: N815
    paymentIdentifier = CardIdentifierOut(help_text="Empty when no card is known")  # noqa: N815
    paymentMethod = serializers.CharField()  # noqa: N815
    paymentToken = PaymentTokenOut(help_text="Empty when no token is known")  # noqa: N815
    paymentKind = serializers.CharField()  # noqa: N815
    amount = MoneyField()
    currency = serializers.CharField()
    conversion = NumberField(help_text="Currency conversion rate (1: none)")
    paymentStatus = serializers.ChoiceField(choices=list(PAYMENT_STATUS_TABLE.values()))  # noqa: N815
    id = serializers.CharField(help_text="The payment group id")


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
    # ``__v`` is inserted here below (a class attribute named ``__v`` would be name-mangled)
    _id = serializers.CharField(help_text="The order's 24-hex id, generated once")
    createdAt = IsoMillisField()  # noqa: N815
    updatedAt = IsoMillisField()  # noqa: N815
    shipTo = ShipToOut(many=True)  # noqa: N815
    items = ItemOut(many=True)
    shipments = ShipmentOut(many=True)
    payments = PaymentOut(many=True)


def _insert_field(serializer_class, name: str, field: serializers.Field, *, after: str) -> None:
    fields = {}
    for key, value in serializer_class._declared_fields.items():
        fields[key] = value
        if key == after:
            fields[name] = field
    serializer_class._declared_fields = fields


_insert_field(
    FabricOrder,
    "__v",
    serializers.IntegerField(help_text="The document version key of the fabric API: always 0 here (see revision)"),
    after="attributes",
)


class OrderActionOutput(serializers.Serializer):
    orderId = serializers.CharField()  # noqa: N815
    status = serializers.CharField(help_text="`Successfully Returned order` / `Successfully Cancelled order`")
    order = FabricOrder()


class FabricRefund(serializers.Serializer):
    refundId = serializers.CharField(source="refund_id")  # noqa: N815
    paymentId = serializers.CharField(  # noqa: N815
        source="payment.payment_group_id", default=None, help_text="The payment's id (as in `order.payments[].id`)"
    )
    amount = MoneyField()
    currency = serializers.CharField()
    status = serializers.CharField(help_text="pending, processing, completed or failed")


class CancelOutput(OrderActionOutput):
    refunds = FabricRefund(
        many=True,
        help_text="What cancelling the order gave back: one refund per captured payment of what was still "
        "refundable (empty for an unpaid order). The order itself has no refund field in this dialect.",
    )


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

# What the order object reads besides the order row; a lookup the caller prefetched already costs no query.
FABRIC_PREFETCH = (
    Prefetch("items", queryset=OrderItem.objects.select_related("category").order_by("line_number")),
    "payments",
    "shipments__lines",
    "promotions",
    "status_descriptions",
)

# The ship-to's status is its least advanced shipment's (a returned one counts as delivered first).
_SHIPMENT_PROGRESS = [
    ShipmentStatus.PENDING,
    ShipmentStatus.SHIPPED,
    ShipmentStatus.IN_TRANSIT,
    ShipmentStatus.DELIVERED,
    ShipmentStatus.RETURNED,
]


def fabric_order(order: Order) -> dict[str, Any]:
    """The seed's order object for ``order`` (a dict of serialized JSON values)."""
    prefetch_related_objects([order], *FABRIC_PREFETCH)
    return FabricOrder(_order_source(order)).data


def _name(first: str, middle: str, last: str) -> dict[str, str]:
    return {"first": first, "middle": middle, "last": last}


def _phone(number: str, kind: str) -> dict[str, str] | None:
    return {"number": number, "kind": kind} if number else None


def _address(*, name, phone, email, is_validated, street1, street2, city, state, country, zip_code, kind):
    address: dict[str, Any] = {"name": name}
    if phone:
        address["phone"] = phone
    address["isValidated"] = is_validated
    if email:
        address["email"] = email
    address.update(
        street1=street1, street2=street2, city=city, state=state, country=country, zipCode=zip_code, kind=kind
    )
    return address


def _order_source(order: Order) -> dict[str, Any]:
    items = list(order.items.all())
    shipments = list(order.shipments.all())
    line_numbers = {i.pk: i.line_number for i in items}
    promos: dict[int | None, list[dict[str, str]]] = {}
    for promo in order.promotions.all():
        promos.setdefault(promo.order_item_id, []).append({"name": promo.name})
    phone = _phone(order.customer_phone, order.customer_phone_kind)
    data: dict[str, Any] = {
        "tags": order.tags,
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
        "events": order.events,
        "attributes": order.attributes,
        "__v": 0,
        "_id": order.object_id,
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
                "taxCode": i.tax_code,
                "weightUnit": i.weight_unit,
                "group": ([i.category.name] if i.category_id else []) + ([i.item_group] if i.item_group else []),
                "promosApplied": promos.get(i.pk, []),
                "attributes": i.attributes,
                "reservedLocation": [i.reserved_location] if i.reserved_location else [],
                **({"itemId": i.item_id} if i.item_id else {}),
                **({"weight": i.weight} if i.weight is not None else {}),
            }
            for i in items
        ],
        "shipments": [
            {
                "_id": s.object_id,
                "id": s.object_id,
                "shipToId": SHIP_TO_ID,
                "shipmentCarrier": s.carrier,
                "shipmentCarrierUrl": s.carrier_url,
                "trackingNumber": s.tracking_number,
                "lineItems": [
                    {
                        "_id": line.object_id,
                        "id": line.object_id,
                        "lineItemId": line_numbers[line.order_item_id],
                        "quantity": line.quantity,
                    }
                    for line in s.lines.all()
                ],
                "shipmentStatus": SHIPMENT_STATUS_TABLE[s.status],
                **({"shippedDate": s.shipped_date} if s.shipped_date else {}),
            }
            for s in shipments
        ],
        "payments": [_payment(p, n) for n, p in enumerate(order.payments.all(), start=1)],
    }
    if order.customer_id:
        data["customerUserId"] = order.customer_id
    if phone:
        data["customerPhone"] = phone
    if _has_ship_to(order, promos.get(None)):
        data["shipTo"] = [_ship_to(order, phone, shipments, promos.get(None, []))]
    return data


def _has_ship_to(order: Order, shipping_promos) -> bool:
    address = (order.ship_to_street1, order.ship_to_street2, order.ship_to_city, order.ship_to_zip_code)
    shipping = (order.ship_to_carrier, order.ship_to_method, order.ship_to_method_id, order.ship_to_instructions)
    return bool(
        any(address)
        or order.ship_to_country
        or any(shipping)
        or order.ship_to_price
        or order.ship_to_promised_delivery_date
        or shipping_promos
    )


def _ship_to(order: Order, phone, shipments: list, promos: list[dict[str, str]]) -> dict[str, Any]:
    shipped = [s.shipped_date for s in shipments if s.shipped_date]
    delivered = [s.delivered_date for s in shipments if s.delivered_date]
    status = min((_SHIPMENT_PROGRESS.index(s.status) for s in shipments), default=0)
    ship_to: dict[str, Any] = {
        "address": _address(
            name=_name(order.customer_first_name, order.customer_middle_name, order.customer_last_name),
            phone=phone,
            email=order.customer_email,
            is_validated=order.ship_to_is_validated,
            street1=order.ship_to_street1,
            street2=order.ship_to_street2,
            city=order.ship_to_city,
            state=order.ship_to_state,
            country=order.ship_to_country,
            zip_code=order.ship_to_zip_code,
            kind="Ship to address",
        ),
        "delivery": {"actual": max(delivered)} if delivered and len(delivered) == len(shipments) else {},
        "shipping": {"actual": min(shipped)} if shipped else {},
        "promosApplied": promos,
        "_id": order.ship_to_object_id,
        "id": order.ship_to_object_id,
        "shipToId": SHIP_TO_ID,
        "shipToType": "SHIP_TO_ADDRESS",
        "price": order.ship_to_price,
        "currency": order.currency,
        "estimatedTax": order.ship_to_estimated_tax,
        "committedTax": order.ship_to_committed_tax,
        "total": order.ship_to_price + order.ship_to_estimated_tax,
        "taxCode": order.ship_to_tax_code,
        "shipmentCarrier": order.ship_to_carrier,
        "shipmentMethod": order.ship_to_method,
        "shipmentMethodId": order.ship_to_method_id,
        "shipmentInstructions": order.ship_to_instructions,
        "shipmentStatus": ShipmentStatus(_SHIPMENT_PROGRESS[status]).label,
        "readyForPickups": [],
    }
    if order.ship_to_promised_delivery_date:
        ship_to["promisedDeliveryDate"] = order.ship_to_promised_delivery_date
    return ship_to


def _payment(p: Payment, number: int) -> dict[str, Any]:
    payment: dict[str, Any] = {
        "shipToId": [SHIP_TO_ID],
        "_id": p.payment_group_id,
        "id": p.payment_group_id,
        "paymentIdentifier": {"cardIdentifier": p.card_last_four} if p.card_last_four else {},
        "paymentMethod": p.payment_method,
        "paymentToken": {"token": p.token_reference} if p.token_reference else {},
        "paymentKind": p.payment_kind,
        "amount": p.amount,
        "currency": p.currency,
        "conversion": p.conversion_rate,
        "paymentStatus": PAYMENT_STATUS_TABLE[p.status],
    }
    bill_to = (p.bill_to_street1, p.bill_to_city, p.bill_to_zip_code, p.bill_to_country, p.bill_to_last_name)
    if any(bill_to):
        payment["billToId"] = number
        payment["billToAddress"] = _address(
            name=_name(p.bill_to_first_name, p.bill_to_middle_name, p.bill_to_last_name),
            phone=_phone(p.bill_to_phone, p.bill_to_phone_kind),
            email=p.bill_to_email,
            is_validated=p.bill_to_is_validated,
            street1=p.bill_to_street1,
            street2=p.bill_to_street2,
            city=p.bill_to_city,
            state=p.bill_to_state,
            country=p.bill_to_country,
            zip_code=p.bill_to_zip_code,
            kind="Bill to address",
        )
    return payment
