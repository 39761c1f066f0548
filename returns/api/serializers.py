"""Shapes of the back-office returns API (snake_case). Shape only: rules live in returns.services."""

from rest_framework import serializers

from config.api.serializers import MoneyField, StrictInputSerializer
from orders.models import OrderStatus


class BlankAsNullField(serializers.CharField):
    """A text column kept blank rather than NULL, shown as ``null`` when blank (as the schema says)."""

    def to_representation(self, value):
        return value or None


class ReturnLineInput(StrictInputSerializer):
    order_item_id = serializers.UUIDField()
    quantity = serializers.IntegerField(min_value=1, max_value=100000)


class ReturnCreateInput(StrictInputSerializer):
    items = ReturnLineInput(many=True, allow_empty=False, max_length=500)
    return_code = serializers.CharField(max_length=16)
    message = serializers.CharField(max_length=1000, required=False, allow_blank=True)
    refund = serializers.BooleanField(required=False, default=False)
    restock = serializers.BooleanField(required=False, default=False)
    updated_by = serializers.CharField(max_length=150, required=False)


class ReturnLineOutput(serializers.Serializer):
    order_item_id = serializers.UUIDField(source="order_item.order_item_id")
    line_number = serializers.IntegerField(source="order_item.line_number")
    sku = serializers.CharField(source="order_item.sku")
    store_item_name = serializers.CharField(source="order_item.store_item_name")
    quantity = serializers.IntegerField()
    amount = MoneyField()


class ReturnRefundOutput(serializers.Serializer):
    refund_id = serializers.CharField()
    payment_group_id = serializers.CharField(source="payment.payment_group_id", allow_null=True, default=None)
    amount = MoneyField()
    currency = serializers.CharField()
    status = serializers.CharField()


class ReturnOutput(serializers.Serializer):
    return_id = serializers.CharField()
    order_id = serializers.CharField(source="order.order_id")
    scope = serializers.CharField()
    return_code = serializers.CharField(source="reason.code")
    return_description = serializers.CharField(source="reason.description")
    message = serializers.CharField()
    refund_requested = serializers.BooleanField()
    restock = serializers.BooleanField()
    refund_amount = MoneyField()
    refund_approval_request_id = BlankAsNullField(
        source="refund_approval_id",
        allow_null=True,
        help_text="Set when the refund was over the employee's refund limit: the approval request that holds it "
        "(refund_amount stays 0.00 until a manager approves).",
    )
    currency = serializers.CharField()
    created_via = serializers.CharField()
    created_by = serializers.CharField(source="created_by_label")
    created_at = serializers.DateTimeField()
    lines = ReturnLineOutput(many=True)
    refunds = ReturnRefundOutput(many=True, source="refund_list")


class ReturnCreateOutput(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    order_id = serializers.CharField()
    order_status = serializers.ChoiceField(choices=OrderStatus.choices)
    revision = serializers.IntegerField()
    # "return" is a keyword: declared below
    timestamp = serializers.DateTimeField()


ReturnCreateOutput._declared_fields["return"] = ReturnOutput()


class ReturnListOutput(serializers.Serializer):
    success = serializers.BooleanField()
    order_id = serializers.CharField()
    order_status = serializers.ChoiceField(choices=OrderStatus.choices)
    count = serializers.IntegerField()
    results = ReturnOutput(many=True)
