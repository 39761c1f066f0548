"""Every API operation names the query parameters it reads; any other is a 400 naming it, in the dialect's body.

A view declares ``query_params = {"GET": ("orderId", ...), "DELETE": ("agentId",)}``; a GET list
(``paginated = True``) also takes its filterset's filters and its paginator's parameters (``page``,
``page_size``). Everything else (a typo, a parameter of another operation, a parameter on a detail or write
operation) is refused before the view runs, never silently ignored; so is a declared parameter sent empty
(``?limit=``). The base views of the three dialects mix
this in, so a new endpoint is covered.
"""

from __future__ import annotations

from config.errors import ValidationFailed

ALWAYS = frozenset({"format"})  # DRF's format override (?format=json)


class DeclaredQueryParams:
    query_params: dict[str, tuple[str, ...]] = {}
    paginated = False  # a list: its GET takes the paginator's parameters

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # 401 and 403 first
        unknown = sorted(set(request.query_params) - self.allowed_query_params(request.method))
        if unknown:
            raise ValidationFailed([{"field": name, "error": "Unknown query parameter"} for name in unknown])
        empty = sorted(name for name, values in request.query_params.lists() if not all(v.strip() for v in values))
        if empty:  # ?limit= is no default: the client meant something and sent nothing
            raise ValidationFailed([{"field": name, "error": "Must not be empty"} for name in empty])

    def allowed_query_params(self, method: str) -> frozenset[str]:
        allowed = set(ALWAYS) | set(self.query_params.get(method, ()))
        if method in ("GET", "HEAD"):
            allowed |= set(self.query_params.get("GET", ()))
            filterset_class = getattr(self, "filterset_class", None)
            if filterset_class is not None:
                allowed |= set(filterset_class.base_filters)
            paginator = getattr(self, "paginator", None) if self.paginated else None
            if paginator is not None:
                for attr in ("page_query_param", "page_size_query_param", "limit_query_param", "offset_query_param"):
                    if getattr(paginator, attr, None):
                        allowed.add(getattr(paginator, attr))
        return frozenset(allowed)
