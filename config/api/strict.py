"""Strict JSON types for request bodies, checked before any field converts a value (one place for every dialect).

DRF's fields are lenient: a ``BooleanField`` takes ``0``, ``"yes"`` and ``"true"``, a ``DecimalField`` takes
``"10"`` and ``" 10 "``, an ``IntegerField`` takes ``"7"``, a ``CharField`` takes ``42``. The OpenAPI schema
promises JSON types, so a body that breaks them is a 400 naming the field: a boolean is ``true``/``false``, a
number (money included) is a JSON number, text is a JSON string, a list is an array, an object is an object.
Every list in a body is bounded: by its field's ``max_length`` (documented as ``maxItems``), else by
``MAX_LIST_ITEMS``, so no request makes the server work through thousands of entries before refusing it.

``StrictInputSerializer`` runs :func:`json_type_errors` on the body it is given; serializers that read query
strings (every value a string) are plain ``Serializer`` classes and are not checked here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework import serializers

MAX_LIST_ITEMS = 1000  # a list field without its own max_length takes at most this many entries

_NUMBERS = (serializers.IntegerField, serializers.DecimalField, serializers.FloatField)
_TEXT = (
    serializers.CharField,
    serializers.ChoiceField,
    serializers.DateTimeField,
    serializers.DateField,
    serializers.TimeField,
    serializers.DurationField,
    serializers.UUIDField,
)


def json_type_errors(fields: dict[str, serializers.Field], data: Any, prefix: str = "") -> list[dict[str, str]]:
    """``[{"field": "items[0].quantity", "error": "Must be a number"}]`` for every value of ``data`` whose JSON
    type is not the one its field declares (undeclared keys are left to the strict serializer)."""
    if not isinstance(data, dict):
        return []
    errors: list[dict[str, str]] = []
    for name, field in fields.items():
        if name not in data or field.read_only:
            continue
        errors.extend(_check(field, data[name], f"{prefix}.{name}" if prefix else name))
    return errors


def _check(field: serializers.Field, value: Any, path: str) -> list[dict[str, str]]:
    if value is None:
        return []  # null: the field's allow_null decides, with DRF's own message
    if isinstance(field, serializers.ListSerializer):
        return _check_list(field, value, path, field.child)
    if isinstance(field, serializers.Serializer):
        if not isinstance(value, dict):
            return [{"field": path, "error": "Must be an object"}]
        return json_type_errors(field.fields, value, path)
    if isinstance(field, serializers.ListField):
        return _check_list(field, value, path, field.child)
    if isinstance(field, serializers.BooleanField):
        return [] if isinstance(value, bool) else [{"field": path, "error": "Must be a boolean (true or false)"}]
    if isinstance(field, _NUMBERS):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return [{"field": path, "error": "Must be a number (not a string)"}]
        if isinstance(field, serializers.IntegerField) and not isinstance(value, int):
            return [{"field": path, "error": "Must be a whole number"}]
        return []
    if isinstance(field, serializers.MultipleChoiceField):
        return [] if isinstance(value, list) else [{"field": path, "error": "Must be a list"}]
    if isinstance(field, _TEXT):
        if not isinstance(value, str):
            return [{"field": path, "error": "Must be a string"}]
        if "\x00" in value:  # PostgreSQL stores no NUL in text: refused here, not a 500 there
            return [{"field": path, "error": "Must not contain NUL characters"}]
        return []
    if isinstance(field, serializers.DictField):
        return [] if isinstance(value, dict) else [{"field": path, "error": "Must be an object"}]
    return []  # JSONField and custom fields: any JSON value


def _check_list(field, value: Any, path: str, child) -> list[dict[str, str]]:
    if not isinstance(value, list):
        return [{"field": path, "error": "Must be a list"}]
    limit = getattr(field, "max_length", None) or MAX_LIST_ITEMS
    if len(value) > limit:
        return [{"field": path, "error": f"Must have at most {limit} items"}]
    errors: list[dict[str, str]] = []
    if child is not None:
        for index, item in enumerate(value):
            errors.extend(_check(child, item, f"{path}[{index}]"))
    return errors
