"""Strict list filtering: a query parameter the operation does not declare, an empty filter value or a
boolean that is not ``true``/``false`` is a 400 naming the parameter, never silently ignored."""

from django_filters import BooleanFilter
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
