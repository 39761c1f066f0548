"""Shapes of the back-office order API (snake_case). Shape only: rules live in orders.services.

The fabric order's data (docs/api/fabric.md) is optional on create: every text is plain (no HTML), money is non-negative
with two places, lists are bounded (promotions, tags, events and attributes: at most ``LIST_MAX`` = 100 entries).
"""

import math
from decimal import Decimal

from django.core.validators import URLValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import MoneyField, StrictInputSerializer
from orders.ledger import refundable_of
from orders.models import LIST_MAX, OrderStatus, PaymentStatus, PhoneKind, RefundSource, ShipmentStatus, WeightUnit
from orders.validators import ITEM_LIMITS, validate_no_html

POSITIVE = Decimal("0.01")
ZERO = Decimal("0")
FREE_TEXT_MAX = 1000  # characters of one text in a free-form list entry


def _no_html(value):
    from django.core.exceptions import ValidationError

    try:
        validate_no_html(value)
    except ValidationError as exc:
        raise serializers.ValidationError(exc.messages[0]) from exc
    return value


def _limit_message(n: int) -> dict:
    return {"max_length": f"Must be less than {n} characters"}


def _plain_json(value, depth: int = 0):
    """Free-form list entries (tags, events, attributes): JSON values without markup, bounded in depth and size."""
    if depth > 3:
        raise serializers.ValidationError("Nested too deeply (at most 3 levels)")
    if isinstance(value, str):
        if len(value) > FREE_TEXT_MAX:
            raise serializers.ValidationError(f"Text must be at most {FREE_TEXT_MAX} characters")
        _no_html(value)
    elif isinstance(value, dict):
        if len(value) > LIST_MAX:
            raise serializers.ValidationError(f"Must have at most {LIST_MAX} keys")
        for key, item in value.items():
            _plain_json(key, depth + 1)
            _plain_json(item, depth + 1)
    elif isinstance(value, list):
        if len(value) > LIST_MAX:
            raise serializers.ValidationError(f"Must have at most {LIST_MAX} items")
        for item in value:
            _plain_json(item, depth + 1)
    elif isinstance(value, float) and not math.isfinite(value):
        raise serializers.ValidationError("Must be a finite number")
    return value


def _free_list(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.JSONField(validators=[_plain_json]),
        required=False,
        max_length=LIST_MAX,
        help_text=f"{help_text} At most {LIST_MAX} entries; text without markup.",
    )


def _text(max_length: int, **kwargs) -> serializers.CharField:
    """Optional plain text (no HTML), up to ``max_length`` characters."""
    return serializers.CharField(
        max_length=max_length,
        required=False,
        allow_blank=True,
        validators=[_no_html],
        error_messages=_limit_message(max_length),
        **kwargs,
    )


CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$"  # a tax code or a shipping method id: FR020000, 10000001
HTTP_URL = URLValidator(schemes=["http", "https"])


# ----------------------------------------------------------------- input


class CustomerInput(StrictInputSerializer):
    customer_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    middle_name = _text(100)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    phone_kind = serializers.ChoiceField(choices=PhoneKind.choices, required=False, allow_blank=True)


class PromotionInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100, validators=[_no_html], error_messages=_limit_message(100))


def _promotions(help_text: str) -> PromotionInput:
    return PromotionInput(many=True, required=False, max_length=LIST_MAX, help_text=f"{help_text} At most {LIST_MAX}.")


class ShipToInput(StrictInputSerializer):
    street1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    street2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True)
    zip_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=60, required=False, allow_blank=True)
    # The fabric order (docs/api/fabric.md): the ship-to's validation, pricing, tax and shipping choices.
    is_validated = serializers.BooleanField(required=False, help_text="The address was validated.")
    price = MoneyField(min_value=ZERO, required=False, help_text="Shipping price before tax; in the order total.")
    estimated_tax = MoneyField(min_value=ZERO, required=False, help_text="Tax on shipping; in the tax total.")
    committed_tax = MoneyField(min_value=ZERO, required=False, help_text="Tax on shipping committed (invoiced).")
    tax_code = serializers.RegexField(CODE, required=False, allow_blank=True)
    carrier = _text(60, help_text="The carrier the customer chose, e.g. Fedex.")
    method = _text(60, help_text="The shipping method, e.g. Express.")
    method_id = serializers.RegexField(CODE, required=False, allow_blank=True)
    promised_delivery_date = serializers.DateTimeField(required=False, allow_null=True)
    instructions = _text(500, help_text="Delivery instructions, e.g. Leave at back door.")
    promotions = _promotions("Promotions applied to the shipping.")


class OrderItemInput(StrictInputSerializer):
    sku = serializers.CharField(max_length=64)
    item_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    store_item_name = serializers.CharField(max_length=200, error_messages=_limit_message(200))
    store_item_description = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    store_item_category = serializers.CharField(max_length=100)
    store_item_size = serializers.CharField(max_length=50, required=False, allow_blank=True)
    quantity = serializers.IntegerField(min_value=1, max_value=100000)
    unit_price = MoneyField(min_value=ZERO)
    discount = MoneyField(min_value=ZERO, required=False)
    tax = MoneyField(min_value=ZERO, required=False)
    special_instructions = serializers.CharField(
        max_length=500, required=False, allow_blank=True, validators=[_no_html], error_messages=_limit_message(500)
    )
    preparation_notes = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    # The fabric order (docs/api/fabric.md).
    group = _text(100, help_text="The item's group besides its category, e.g. Group1.")
    tax_code = serializers.RegexField(CODE, required=False, allow_blank=True)
    weight = serializers.DecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0"), required=False, allow_null=True
    )
    weight_unit = serializers.ChoiceField(choices=WeightUnit.choices, required=False, allow_blank=True)
    reserved_location = _text(64, help_text="The location whose stock is reserved for this line.")
    promotions = _promotions("Promotions applied to this item.")
    attributes = _free_list("Free-form attributes.")


class BillToInput(StrictInputSerializer):
    """A payment's billing address (the fabric ``billToAddress``)."""

    first_name = _text(100)
    middle_name = _text(100)
    last_name = _text(100)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = _text(32)
    phone_kind = serializers.ChoiceField(choices=PhoneKind.choices, required=False, allow_blank=True)
    street1 = _text(200)
    street2 = _text(200)
    city = _text(100)
    state = _text(100)
    zip_code = _text(20)
    country = _text(60)
    is_validated = serializers.BooleanField(required=False)


class PaymentInput(StrictInputSerializer):
    payment_group_id = serializers.CharField(max_length=64)
    payment_method = serializers.CharField(max_length=40)
    amount = MoneyField(min_value=POSITIVE)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)
    # The fabric order (docs/api/fabric.md).
    kind = _text(40, help_text="The payment's kind, e.g. Default payment.")
    card_last_four = serializers.RegexField(r"^\d{4}$", required=False, help_text="The card's last four digits.")
    token_reference = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,64}$",
        required=False,
        help_text="The payment processor's token for the payment (a reference: never card data).",
    )
    conversion_rate = serializers.DecimalField(
        max_digits=12,
        decimal_places=6,
        min_value=Decimal("0.000001"),
        required=False,
        help_text="Currency conversion rate applied (default 1).",
    )
    bill_to = BillToInput(required=False)


class ShipmentLineInput(StrictInputSerializer):
    line_number = serializers.IntegerField(min_value=1, help_text="The order line (items[n] is line n + 1).")
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class ShipmentInput(StrictInputSerializer):
    carrier = serializers.CharField(max_length=60)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ShipmentStatus.choices, required=False)
    shipped_date = serializers.DateTimeField(required=False, allow_null=True)
    # The fabric order (docs/api/fabric.md).
    carrier_url = serializers.CharField(
        max_length=500, required=False, allow_blank=True, validators=[HTTP_URL], help_text="The tracking page."
    )
    delivered_date = serializers.DateTimeField(required=False, allow_null=True)
    line_items = ShipmentLineInput(
        many=True, required=False, max_length=500, help_text="What it carried: quantities of order lines."
    )


class OrderCreateInput(StrictInputSerializer):
    order_id = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$", required=False, help_text="Generated (1234-5678-90123) when absent."
    )
    account = serializers.RegexField(r"^[A-Za-z0-9]{24}$", required=False, help_text="24-character account id.")
    channel = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False, default="USD")
    customer = CustomerInput(required=False)
    ship_to = ShipToInput(required=False)
    items = OrderItemInput(many=True, allow_empty=False, max_length=500)
    payments = PaymentInput(many=True, required=False, max_length=50)
    shipments = ShipmentInput(many=True, required=False, max_length=50)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=100, validators=[_no_html]),
        required=False,
        max_length=LIST_MAX,
        help_text=f"Labels, at most {LIST_MAX}.",
    )
    events = _free_list("Free-form event records.")
    attributes = _free_list("Free-form attributes.")
    updated_by = serializers.CharField(max_length=150, required=False)


class OrderStatusInput(StrictInputSerializer):
    immutable_fields = {
        "order_total": "Totals are computed from the items and cannot be set",
        "subtotal": "Totals are computed from the items and cannot be set",
        "tax_total": "Totals are computed from the items and cannot be set",
        "order_id": "Identifiers cannot be changed",
    }
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    updated_by = serializers.CharField(max_length=150, required=False)
    reason = serializers.CharField(max_length=100, required=False, allow_blank=True)


_IMMUTABLE_ITEM = "Cannot be updated through this endpoint (quantity, pricing and identifiers are immutable)"


class OrderItemUpdateInput(StrictInputSerializer):
    """The item update contract's body. Quantity, prices and identifiers are refused by name."""

    immutable_fields = {
        name: _IMMUTABLE_ITEM
        for name in (
            "quantity",
            "unit_price",
            "price",
            "discount",
            "tax",
            "sku",
            "item_id",
            "order_item_id",
            "order_id",
            "line_number",
            "total",
        )
    }

    special_instructions = serializers.CharField(
        max_length=ITEM_LIMITS["special_instructions"],
        required=False,
        allow_blank=True,
        allow_null=True,
        trim_whitespace=False,
        validators=[_no_html],
        error_messages=_limit_message(500),
    )
    store_item_name = serializers.CharField(
        max_length=ITEM_LIMITS["store_item_name"],
        required=False,
        allow_blank=False,
        error_messages={**_limit_message(200), "blank": "Cannot be empty", "null": "Cannot be empty"},
    )
    store_item_description = serializers.CharField(
        max_length=ITEM_LIMITS["store_item_description"],
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages=_limit_message(1000),
    )
    store_item_category = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=False,
        trim_whitespace=False,  # must match an existing category exactly (the item update contract: case-sensitive)
        error_messages={"null": "Cannot be null", "blank": "Cannot be empty"},
    )
    store_item_size = serializers.CharField(
        max_length=ITEM_LIMITS["store_item_size"],
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages=_limit_message(50),
    )
    preparation_notes = serializers.CharField(
        max_length=ITEM_LIMITS["preparation_notes"],
        required=False,
        allow_blank=True,
        allow_null=True,
        error_messages=_limit_message(1000),
    )
    updated_by = serializers.CharField(max_length=150, required=False)

    def validate(self, attrs):
        if not any(k != "updated_by" for k in attrs):
            raise serializers.ValidationError("At least one field to update is required")
        return attrs


class CategoryInput(StrictInputSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    updated_by = serializers.CharField(max_length=150, required=False)


# ----------------------------------------------------------------- output


class CategoryOutput(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()


class OrderItemOutput(serializers.Serializer):
    order_item_id = serializers.UUIDField()
    line_number = serializers.IntegerField()
    sku = serializers.CharField()
    item_id = serializers.CharField()
    store_item_name = serializers.CharField()
    store_item_description = serializers.CharField()
    store_item_category = serializers.CharField(source="category.name", allow_null=True, default=None)
    store_item_size = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = MoneyField()
    discount = MoneyField()
    tax = MoneyField()
    line_total = MoneyField()
    special_instructions = serializers.CharField()
    preparation_notes = serializers.CharField()
    group = serializers.CharField(source="item_group")
    tax_code = serializers.CharField()
    weight = serializers.DecimalField(max_digits=10, decimal_places=3, coerce_to_string=False, allow_null=True)
    weight_unit = serializers.CharField()
    reserved_location = serializers.CharField()
    attributes = serializers.ListField(child=serializers.JSONField())
    revision = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class BillToOutput(serializers.Serializer):
    first_name = serializers.CharField(source="bill_to_first_name")
    middle_name = serializers.CharField(source="bill_to_middle_name")
    last_name = serializers.CharField(source="bill_to_last_name")
    email = serializers.CharField(source="bill_to_email")
    phone = serializers.CharField(source="bill_to_phone")
    phone_kind = serializers.CharField(source="bill_to_phone_kind")
    street1 = serializers.CharField(source="bill_to_street1")
    street2 = serializers.CharField(source="bill_to_street2")
    city = serializers.CharField(source="bill_to_city")
    state = serializers.CharField(source="bill_to_state")
    zip_code = serializers.CharField(source="bill_to_zip_code")
    country = serializers.CharField(source="bill_to_country")
    is_validated = serializers.BooleanField(source="bill_to_is_validated")


class PaymentOutput(serializers.Serializer):
    payment_group_id = serializers.CharField()
    payment_method = serializers.CharField()
    amount = MoneyField()
    currency = serializers.CharField()
    status = serializers.CharField()
    kind = serializers.CharField(source="payment_kind")
    card_last_four = serializers.CharField()
    token_reference = serializers.CharField()
    conversion_rate = serializers.DecimalField(max_digits=12, decimal_places=6, coerce_to_string=False)
    bill_to = BillToOutput(source="*")


class ShipmentOutput(serializers.Serializer):
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    status = serializers.CharField()
    shipped_date = serializers.DateTimeField(allow_null=True)
    carrier_url = serializers.CharField()
    delivered_date = serializers.DateTimeField(allow_null=True)


class RefundOutput(serializers.Serializer):
    refund_id = serializers.CharField()
    amount = MoneyField()
    currency = serializers.CharField()
    source = serializers.ChoiceField(choices=RefundSource.choices)
    status = serializers.CharField()
    cause_type = serializers.CharField()
    cause_id = serializers.CharField()
    reason = serializers.CharField()
    failure_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(allow_null=True)


class CustomerOutput(serializers.Serializer):
    customer_id = serializers.CharField()
    first_name = serializers.CharField(source="customer_first_name")
    middle_name = serializers.CharField(source="customer_middle_name")
    last_name = serializers.CharField(source="customer_last_name")
    email = serializers.CharField(source="customer_email")
    phone = serializers.CharField(source="customer_phone")
    phone_kind = serializers.CharField(source="customer_phone_kind")


class ShipToOutput(serializers.Serializer):
    street1 = serializers.CharField(source="ship_to_street1")
    street2 = serializers.CharField(source="ship_to_street2")
    city = serializers.CharField(source="ship_to_city")
    state = serializers.CharField(source="ship_to_state")
    zip_code = serializers.CharField(source="ship_to_zip_code")
    country = serializers.CharField(source="ship_to_country")
    is_validated = serializers.BooleanField(source="ship_to_is_validated")
    price = MoneyField(source="ship_to_price")
    estimated_tax = MoneyField(source="ship_to_estimated_tax")
    committed_tax = MoneyField(source="ship_to_committed_tax")
    tax_code = serializers.CharField(source="ship_to_tax_code")
    carrier = serializers.CharField(source="ship_to_carrier")
    method = serializers.CharField(source="ship_to_method")
    method_id = serializers.CharField(source="ship_to_method_id")
    promised_delivery_date = serializers.DateTimeField(source="ship_to_promised_delivery_date", allow_null=True)
    instructions = serializers.CharField(source="ship_to_instructions")


class OrderOutput(serializers.Serializer):
    """An order. Its promotions and what each shipment carried are shown by the fabric API
    (``GET /api-order/orders/{order_id}``), which reads them."""

    order_id = serializers.CharField()
    object_id = serializers.CharField(help_text="The order's 24-hex id (the fabric _id)")
    account = serializers.CharField()
    channel = serializers.IntegerField()
    status = serializers.CharField()
    currency = serializers.CharField()
    customer = CustomerOutput(source="*")
    ship_to = ShipToOutput(source="*")
    items = OrderItemOutput(many=True)
    payments = PaymentOutput(many=True)
    shipments = ShipmentOutput(many=True)
    subtotal = MoneyField()
    tax_total = MoneyField()
    order_total = MoneyField()
    refunded_total = MoneyField()
    refundable_amount = serializers.SerializerMethodField()
    tags = serializers.ListField(child=serializers.JSONField())
    events = serializers.ListField(child=serializers.JSONField())
    attributes = serializers.ListField(child=serializers.JSONField())
    revision = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(MoneyField())
    def get_refundable_amount(self, order) -> Decimal:
        # Through MoneyField so it is rendered with two places (15.00), whatever scale the aggregate has.
        return MoneyField().to_representation(refundable_of(order.paid_total, order.refunded_total))


class OrderDetailOutput(OrderOutput):
    refunds = RefundOutput(many=True)


class OrderStatusOutput(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    order_id = serializers.CharField()
    previous_status = serializers.CharField()
    new_status = serializers.CharField()
    allowed_transitions = serializers.ListField(child=serializers.CharField())
    revision = serializers.IntegerField()
    timestamp = serializers.DateTimeField()
    refunds = RefundOutput(
        many=True,
        help_text="The refunds this change made: cancelling a paid order refunds what is still refundable, one "
        "refund per captured payment (cause_type `cancellation`); empty otherwise.",
    )


class OrderItemUpdateOutput(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    order_item_id = serializers.CharField()
    updated_fields = serializers.ListField(child=serializers.CharField())
    timestamp = serializers.DateTimeField()
