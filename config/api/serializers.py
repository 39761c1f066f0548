"""Serializer building blocks: strict input (unknown fields refused) and the documented error body."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from config.api.strict import json_type_errors


class StrictInputSerializer(serializers.Serializer):
    """Refuses fields it does not declare, so a typo never passes as success.

    ``immutable_fields`` maps names a client might send to the reason they are refused.
    """

    immutable_fields: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {}
            for key in data:
                if key in self.fields and not self.fields[key].read_only:
                    continue
                if key in self.immutable_fields:
                    errors[key] = [self.immutable_fields[key]]
                else:
                    errors[key] = ["Unknown field"]
            if errors:
                raise serializers.ValidationError(errors)
            if self._is_body_root():  # JSON types and list bounds of the whole body, before any field converts
                wrong = json_type_errors(self.fields, data)
                if wrong:
                    raise serializers.ValidationError({e["field"]: [e["error"]] for e in wrong})
        return super().to_internal_value(data)

    def _is_body_root(self) -> bool:
        parent = self.parent
        return parent is None or (isinstance(parent, serializers.ListSerializer) and parent.parent is None)


class ValidationErrorItem(serializers.Serializer):
    field = serializers.CharField()
    error = serializers.CharField()


class ErrorBody(serializers.Serializer):
    """Back-office error body (docs/api/backoffice.md); context fields depend on ``error_code``."""

    success = serializers.BooleanField(default=False)
    message = serializers.CharField()
    error_code = serializers.CharField()
    validation_errors = ValidationErrorItem(many=True, required=False)
    current_status = serializers.CharField(required=False)
    requested_status = serializers.CharField(required=False)
    allowed_transitions = serializers.ListField(child=serializers.CharField(), required=False)
    field = serializers.CharField(required=False)
    provided_value = serializers.JSONField(required=False)
    order_id = serializers.CharField(required=False)
    order_item_id = serializers.CharField(required=False)
    refundable_amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False)


class MoneyField(serializers.DecimalField):
    """A money amount: exact Decimal, two places, rendered as a JSON number."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)


class StrictInputSchema(OpenApiSerializerExtension):
    """OpenAPI: a strict input refuses undeclared fields, so its schema says ``additionalProperties: false``."""

    target_class = StrictInputSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema
