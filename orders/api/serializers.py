"""Shapes of the back-office order API (snake_case). Shape only: rules live in orders.services."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import MoneyField, StrictInputSerializer
from orders.models import OrderStatus, PaymentStatus, RefundSource, ShipmentStatus
from orders.validators import ITEM_LIMITS, validate_no_html

POSITIVE = Decimal("0.01")
ZERO = Decimal("0")


def _no_html(value):
    from django.core.exceptions import ValidationError

    try:
        validate_no_html(value)
    except ValidationError as exc:
        raise serializers.ValidationError(exc.messages[0]) from exc
    return value


def _limit_message(n: int) -> dict:
    return {"max_length": f"Must be less than {n} characters"}


# ----------------------------------------------------------------- input


class CustomerInput(StrictInputSerializer):
    customer_id = serializers.CharField(max_length=64, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class ShipToInput(StrictInputSerializer):
    street1 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    street2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100, required=False, allow_blank=True)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True)
    zip_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=60, required=False, allow_blank=True)


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


class PaymentInput(StrictInputSerializer):
    payment_group_id = serializers.CharField(max_length=64)
    payment_method = serializers.CharField(max_length=40)
    amount = MoneyField(min_value=POSITIVE)
    currency = serializers.RegexField(r"^[A-Z]{3}$", required=False)
    status = serializers.ChoiceField(choices=PaymentStatus.choices, required=False)


class ShipmentInput(StrictInputSerializer):
    carrier = serializers.CharField(max_length=60)
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=ShipmentStatus.choices, required=False)
    shipped_date = serializers.DateTimeField(required=False, allow_null=True)


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
    """Seed 003's body. Quantity, prices and identifiers are refused by name."""

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
        trim_whitespace=False,  # must match an existing category exactly (seed 003: case-sensitive)
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
    revision = serializers.IntegerField()
    updated_at = serializers.DateTimeField()


class PaymentOutput(serializers.Serializer):
    payment_group_id = serializers.CharField()
    payment_method = serializers.CharField()
    amount = MoneyField()
    currency = serializers.CharField()
    status = serializers.CharField()


class ShipmentOutput(serializers.Serializer):
    carrier = serializers.CharField()
    tracking_number = serializers.CharField()
    status = serializers.CharField()
    shipped_date = serializers.DateTimeField(allow_null=True)


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
    last_name = serializers.CharField(source="customer_last_name")
    email = serializers.CharField(source="customer_email")
    phone = serializers.CharField(source="customer_phone")


class ShipToOutput(serializers.Serializer):
    street1 = serializers.CharField(source="ship_to_street1")
    street2 = serializers.CharField(source="ship_to_street2")
    city = serializers.CharField(source="ship_to_city")
    state = serializers.CharField(source="ship_to_state")
    zip_code = serializers.CharField(source="ship_to_zip_code")
    country = serializers.CharField(source="ship_to_country")


class OrderOutput(serializers.Serializer):
    order_id = serializers.CharField()
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
    revision = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(MoneyField())
    def get_refundable_amount(self, order) -> Decimal:
        # Through MoneyField so it is rendered with two places (15.00), whatever scale the aggregate has.
        return MoneyField().to_representation(max(order.paid_total - order.refunded_total, Decimal("0.00")))


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


class OrderItemUpdateOutput(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    order_item_id = serializers.CharField()
    updated_fields = serializers.ListField(child=serializers.CharField())
    timestamp = serializers.DateTimeField()
