from rest_framework.pagination import PageNumberPagination

from config.errors import ValidationFailed


class StandardPagination(PageNumberPagination):
    """Page-number pagination. A page or page size that is not a whole number in range is a 400 naming the
    parameter (never silently replaced by a default); a page past the last one is a 404 (documented on every
    paginated operation by ``config.api.schema_hooks``)."""

    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_number(self, request, paginator):
        raw = request.query_params.get(self.page_query_param)
        if raw is None or raw in self.last_page_strings:
            return super().get_page_number(request, paginator)
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise ValidationFailed.single(self.page_query_param, "Must be a whole number of 1 or more")
        return raw

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationFailed.single(
                self.page_size_query_param, f"Must be a whole number from 1 to {self.max_page_size}"
            )
        return int(raw)

    def get_schema_operation_parameters(self, view):
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.page_query_param:
                param["schema"] = {"type": "integer", "minimum": 1}
            elif param["name"] == self.page_size_query_param:
                param["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return params
