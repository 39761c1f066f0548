"""Strict list filtering: a query parameter the operation does not declare, an empty filter value or a
boolean that is not ``true``/``false`` is a 400 naming the parameter, never silently ignored."""

from datetime import UTC

from django import forms
from django_filters import BooleanFilter, IsoDateTimeFilter, NumberFilter
from django_filters.rest_framework import DjangoFilterBackend

from config.errors import ValidationFailed

ALWAYS_ALLOWED = {"page", "page_size", "format"}
BOOLEAN_VALUES = {"true", "false", "True", "False", "1", "0"}


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        declared = set(filterset_class.base_filters) if filterset_class else set()
        errors = []
        for name, values in request.query_params.lists():
            if name not in declared and name not in ALWAYS_ALLOWED:
                errors.append({"field": name, "error": "Unknown query parameter"})
                continue
            if name not in declared:
                continue
            for value in values:
                if value == "":
                    errors.append({"field": name, "error": "Must not be empty"})
                elif isinstance(filterset_class.base_filters[name], BooleanFilter) and value not in BOOLEAN_VALUES:
                    errors.append({"field": name, "error": "Must be true or false"})
        if errors:
            raise ValidationFailed(errors)
        return super().filter_queryset(request, queryset, view)


class UTCIsoDateTimeFilter(IsoDateTimeFilter):
    """An ISO 8601 date-time filter compared in UTC: PostgreSQL refuses offsets past 15:59 (a 500 otherwise)."""

    def __init__(self, *args, param: str, **kwargs):
        self.param = param
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except (OverflowError, ValueError):
                raise ValidationFailed.single(self.param, "Date-time out of range") from None
        return super().filter(qs, value)


class IntegerFilter(NumberFilter):
    """A whole number (``0.5`` is a 400, as an ``integer`` parameter of the schema says), by default within a
    PostgreSQL ``integer`` column's range, so a huge value is a 400 rather than the database's out-of-range error."""

    field_class = forms.IntegerField

    def __init__(self, *args, min_value: int = -(2**31), max_value: int = 2**31 - 1, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
