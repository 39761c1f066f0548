"""Shapes of the commerce-agent appeasement API (docs/api/ccagent.md, camelCase). Shape only: rules live in services."""

from __future__ import annotations

from datetime import UTC

from rest_framework import serializers

from appeasements.errors import CC_CODES
from appeasements.models import AppeasementState, AppeasementType
from appeasements.selectors import refund_state
from config.api.serializers import MoneyField, StrictInputSerializer


class CCDateTimeField(serializers.DateTimeField):
    """``2020-03-20T04:56:13.935Z``: UTC, milliseconds, as in the seed."""

    def to_representation(self, value):
        if value is None:
            return None
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- input


class AppeasementRefundInput(StrictInputSerializer):
    id = serializers.CharField(max_length=40, required=False, help_text="Omit to create a new refund.")
    paymentGroupId = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    refundType = serializers.CharField(
        max_length=40, required=False, help_text="creditCard, externalRefund, storeCredit (the managed list)."
    )
    type = serializers.CharField(max_length=40, required=False, help_text="Accepted as an alias of refundType.")
    amount = MoneyField()
    currencyCode = serializers.CharField(max_length=3, required=False)
    state = serializers.CharField(
        max_length=20, required=False, help_text="Read-only: the ledger decides. Accepted and ignored."
    )

    def validate(self, attrs):
        given = attrs.get("refundType"), attrs.get("type")
        if given[0] and given[1] and given[0] != given[1]:
            raise serializers.ValidationError({"type": "Differs from refundType"})
        if not (given[0] or given[1]):
            raise serializers.ValidationError({"refundType": "This field is required."})
        return attrs


class AppeasementCommentInput(StrictInputSerializer):
    id = serializers.IntegerField(required=False, help_text="Existing comments must match; omit to add one.")
    agentId = serializers.CharField(max_length=150, required=False)
    comment = serializers.CharField(max_length=4000, allow_blank=True)
    creationDate = serializers.DateTimeField(required=False, help_text="Ignored: new comments get the server's time.")


class AppeasementInput(StrictInputSerializer):
    orderId = serializers.CharField(max_length=40, required=False)
    profileId = serializers.CharField(max_length=64, required=False, allow_blank=True)
    agentId = serializers.CharField(
        max_length=150, required=False, help_text="The caller's employee ID; service accounts may name another."
    )
    reason = serializers.CharField(max_length=40, required=False)
    type = serializers.ChoiceField(choices=AppeasementType.choices, required=False)
    notes = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    issueId = serializers.CharField(
        max_length=40, required=False, help_text="The order issue this appeasement settles (extension)."
    )
    appeasementRefunds = AppeasementRefundInput(many=True, required=False, max_length=50)
    comments = AppeasementCommentInput(many=True, required=False, max_length=100)
    state = serializers.ChoiceField(
        choices=AppeasementState.choices, required=False, help_text="SUBMITTED submits the appeasement."
    )


class AppeasementCreateInput(AppeasementInput):
    orderId = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=40)


class AppeasementUpdateInput(AppeasementInput):
    id = serializers.CharField(max_length=40, required=False, help_text="If given, must be the path's id.")


class AppeasementSubmitInput(AppeasementInput):
    id = serializers.CharField(
        max_length=40, required=False, help_text="Submit this existing appeasement; without it, create and submit."
    )


class AppeasementInitiateInput(StrictInputSerializer):
    orderId = serializers.CharField(max_length=40)


# --------------------------------------------------------------------------- output


class BlankAsNullCharField(serializers.CharField):
    def to_representation(self, value):
        return value or None


class AppeasementRefundOutput(serializers.Serializer):
    paymentGroupId = BlankAsNullCharField(source="payment_group_id", allow_null=True)
    amount = MoneyField()
    id = serializers.CharField(source="refund_id")
    state = serializers.SerializerMethodField()
    type = serializers.CharField(source="refund_type.code")
    currencyCode = serializers.CharField(source="currency_code")

    def get_state(self, obj) -> str:
        return refund_state(obj)


class AppeasementCommentOutput(serializers.Serializer):
    agentId = serializers.CharField(source="agent.username")
    comment = serializers.CharField()
    id = serializers.IntegerField(source="comment_id")
    creationDate = CCDateTimeField(source="created_at")


class AppeasementOutput(serializers.Serializer):
    reason = serializers.CharField(source="reason.code")
    agentId = serializers.CharField(source="agent.username")
    notes = serializers.CharField()
    comments = AppeasementCommentOutput(many=True)
    orderId = serializers.CharField(source="order.order_id")
    appeasementRefunds = AppeasementRefundOutput(many=True, source="refunds")
    lastModifiedDate = CCDateTimeField(source="updated_at")
    type = serializers.ChoiceField(choices=AppeasementType.choices)
    creationDate = CCDateTimeField(source="created_at")
    submittedDate = CCDateTimeField(source="submitted_at", allow_null=True)
    profileId = serializers.CharField(source="profile_id")
    id = serializers.CharField(source="appeasement_id")
    state = serializers.ChoiceField(choices=AppeasementState.choices)
    originOfAppeasement = serializers.CharField(source="origin")
    issueId = serializers.CharField(source="issue.issue_id", allow_null=True, default=None)


class AppeasementListOutput(serializers.Serializer):
    totalResults = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()
    items = AppeasementOutput(many=True)


class AppeasementRefundTypeOutput(serializers.Serializer):
    type = serializers.CharField(source="code")
    description = serializers.CharField()
    requiresPaymentGroup = serializers.BooleanField(source="requires_payment_group")


class AppeasementReasonOutput(serializers.Serializer):
    code = serializers.CharField()
    description = serializers.CharField()


class AppeasementPaymentGroupOutput(serializers.Serializer):
    paymentGroupId = serializers.CharField(source="payment_group_id")
    paymentMethod = serializers.CharField(source="payment_method")
    amount = MoneyField()
    currencyCode = serializers.CharField(source="currency")


class AppeasementInitiateOutput(serializers.Serializer):
    orderId = serializers.CharField(source="order.order_id")
    orderState = serializers.CharField(source="order.status")
    appeasable = serializers.BooleanField()
    currencyCode = serializers.CharField(source="order.currency")
    orderTotal = MoneyField(source="order.order_total")
    paidAmount = MoneyField(source="paid")
    refundedAmount = MoneyField(source="refunded")
    refundableAmount = MoneyField(source="refundable")
    policyLimit = MoneyField(source="policy_limit", help_text="Above this total a submit needs a manager's approval.")
    profileId = serializers.CharField(source="order.customer_id")
    refundTypes = AppeasementRefundTypeOutput(many=True, source="refund_types")
    reasons = AppeasementReasonOutput(many=True)
    paymentGroups = AppeasementPaymentGroupOutput(many=True, source="payments")


# --------------------------------------------------------------------------- errors


class CCErrorItem(serializers.Serializer):
    errorCode = serializers.CharField()
    message = serializers.CharField()
    status = serializers.CharField()
    field = serializers.CharField(required=False, help_text="The offending field (camelCase path).")


class CCError(serializers.Serializer):
    """The seed's errorModel. Codes:"""

    errorCode = serializers.ChoiceField(choices=list(CC_CODES), help_text="See the operation's responses.")
    message = serializers.CharField()
    status = serializers.CharField(help_text="The HTTP status, as a string.")
    errors = CCErrorItem(many=True, help_text="Every problem found (one or more).")
    refundableAmount = MoneyField(required=False)
    currentState = serializers.CharField(required=False)
    reason = serializers.CharField(required=False, help_text="900016: the validation webhook's reason.")


CCError.__doc__ = "The seed's errorModel. Codes: " + "; ".join(f"{k}: {v}" for k, v in CC_CODES.items())
