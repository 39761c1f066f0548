from rest_framework import serializers

from config.api.serializers import StrictInputSerializer
from webhooks.models import DeliveryStatus
from webhooks.services import SUBSCRIBABLE

ACCOUNT_HELP = (
    "The 24-character account id whose orders' events are sent: the default account or one an order or a fabric "
    "API key names. A service account may name only the accounts it was granted."
)


class SubscriptionInput(StrictInputSerializer):
    url = serializers.URLField(max_length=500)
    account = serializers.CharField(max_length=24, help_text=ACCOUNT_HELP)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), required=False, max_length=len(SUBSCRIBABLE)
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False, default=True)


class SubscriptionUpdateInput(StrictInputSerializer):
    url = serializers.URLField(max_length=500, required=False)
    account = serializers.CharField(max_length=24, required=False, help_text=ACCOUNT_HELP)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE), required=False, max_length=len(SUBSCRIBABLE)
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class RotateInput(StrictInputSerializer):
    grace_hours = serializers.FloatField(required=False, min_value=0, max_value=720)


class SubscriptionOutput(serializers.Serializer):
    subscription_id = serializers.CharField()
    url = serializers.CharField()
    account = serializers.CharField()
    owner = serializers.CharField(
        source="owner.username",
        read_only=True,
        allow_null=True,
        help_text="The employee ID of the manager or service account it belongs to (null: nobody's, managers only). "
        "A service account sees and changes only the subscriptions it owns.",
    )
    event_types = serializers.ListField(child=serializers.CharField(), help_text="Empty: every event type.")
    description = serializers.CharField()
    active = serializers.BooleanField()
    consecutive_failures = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    previous_secret_expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SubscriptionWithSecretOutput(SubscriptionOutput):
    secret = serializers.CharField(help_text="The signing secret (Standard Webhooks `whsec_…`): shown only now.")


class DeliveryOutput(serializers.Serializer):
    event_id = serializers.CharField(source="event.event_id")
    event_type = serializers.CharField(source="event.type")
    order_id = serializers.CharField(source="event.order_key")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField()
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    next_attempt_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
