"""The fabric-compatible order API (``/api-order/``): thin views over ``returns.services``.

Every request carries ``x-api-key`` and ``x-site-context``; errors use the fabric body
(``returns.fabric.errors``).
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.etag import IDEMPOTENCY_KEY, IF_MATCH, etag_header, if_match, with_etag
from config.api.query_params import DeclaredQueryParams
from config.idempotency import idempotent
from orders.errors import OrderNotFound
from orders.models import Order, OrderItem
from orders.selectors import cancellation_refunds
from returns import services
from returns.fabric import serializers as s
from returns.fabric.auth import FabricAPIKeyAuthentication, SiteContext, authorize
from returns.services import ReturnActor

SITE_CONTEXT = OpenApiParameter(
    "x-site-context",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "A JSON object: `account` (required, the 24-character account identifier; it must be the API key's "
        'account), `channel` (sales channel ID), `stage`, `date` (ISO 8601). Example: `{"account": '
        '"5e3598e3007c5e00080d2bb8", "channel": 12}`. Orders of another account, or of another channel when '
        "`channel` is given, are not found. `stage` and `date` are validated but do not narrow anything here: "
        "this back office has one environment and no dated snapshots."
    ),
)


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(s.FabricError, description=description)


COMMON_ERRORS = {
    400: _err("INVALID_SITE_CONTEXT (bad or missing x-site-context), VALIDATION_ERROR, PARSE_ERROR"),
    401: _err("API_KEY_REQUIRED / INVALID_API_KEY (unknown, revoked or expired)"),
    403: _err("ACCOUNT_MISMATCH: the key belongs to another account than x-site-context.account"),
    404: _err("ORDER_NOT_FOUND (also for another account's or channel's order)"),
}
WRITE_ERRORS = {
    412: _err("PRECONDITION_FAILED: If-Match is not the order's current ETag (its revision)"),
    422: _err("IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used for another request"),
    429: _err("RATE_LIMITED: too many writes with this API key (Retry-After)"),
}


def fabric_order_queryset() -> QuerySet[Order]:
    return Order.objects.prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.select_related("category").order_by("line_number")),
        "payments",
        "shipments",
        "status_descriptions",
    )


class FabricView(DeclaredQueryParams, APIView):
    authentication_classes = [FabricAPIKeyAuthentication]
    permission_classes: list = []
    site: SiteContext

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authenticates the key (401)
        self.site = authorize(request.auth, request.headers.get("x-site-context"))

    @property
    def actor(self) -> ReturnActor:
        return ReturnActor.api_key(self.request.auth)

    def scoped(self, order_id: str) -> Order:
        qs = fabric_order_queryset().filter(order_id=order_id, account=self.site.account)
        if self.site.channel is not None:
            qs = qs.filter(channel=self.site.channel)
        order = qs.first()
        if order is None:
            raise OrderNotFound(order_id=order_id)
        return order

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def action_response(self, order_id: str, status_text: str, *, with_refunds: bool = False) -> Response:
        order = self.scoped(order_id)
        body = {"orderId": order.order_id, "status": status_text, "order": s.fabric_order(order)}
        if with_refunds:
            body["refunds"] = s.FabricRefund(cancellation_refunds(order), many=True).data
        return with_etag(Response(body), order.revision)

    def locked(self, order_id: str):
        """``If-Match`` against the order's revision (inside the key's account)."""
        return if_match(self.request, Order.objects.filter(order_id=order_id, account=self.site.account))


class FabricOrderDetailView(FabricView):
    @extend_schema(
        operation_id="fabric_orders_retrieve",
        tags=["fabric orders"],
        parameters=[SITE_CONTEXT, etag_header(200)],
        responses={200: s.FabricOrder, **COMMON_ERRORS},
        description="One order in the fabric shape, inside the key's account (and the context's channel).",
    )
    def get(self, request, order_id: str):
        order = self.scoped(order_id)
        return with_etag(Response(s.fabric_order(order)), order.revision)


class FabricOrderReturnView(FabricView):
    @extend_schema(
        operation_id="fabric_orders_return",
        tags=["fabric orders"],
        parameters=[SITE_CONTEXT, IF_MATCH, IDEMPOTENCY_KEY, etag_header(200)],
        request=s.ReturnInput,
        responses={
            200: s.OrderActionOutput,
            **COMMON_ERRORS,
            **WRITE_ERRORS,
            400: _err(
                "INVALID_SITE_CONTEXT, VALIDATION_ERROR (missing/unknown/mistyped body field), PARSE_ERROR, "
                "INVALID_RETURN_CODE (field returnCode)"
            ),
            409: _err("ALREADY_RETURNED / ORDER_NOT_RETURNABLE (only a completed order can be returned)"),
            422: _err("REFUND_PROCESSING_ERROR / IDEMPOTENCY_KEY_REUSED"),
        },
        examples=[
            OpenApiExample(
                "Return a delivered order with a refund",
                value={
                    "returnCode": "2001",
                    "orderId": "1626-4972-66351",
                    "returnMessage": "Customer changed their mind",
                    "sugarRefund": True,
                },
                request_only=True,
            )
        ],
        description=(
            "The fabric contract: return a whole completed order. Records every item and quantity, moves the order to "
            "ORDER_RETURNED (revision +1), appends a statusDescriptions entry and, with `sugarRefund`, refunds "
            "what is still refundable through the ledger. A second return is refused (409) and never refunds twice."
        ),
    )
    @idempotent
    def patch(self, request):
        data = self.validated(s.ReturnInput)
        with self.locked(data["orderId"]):
            services.order_return_whole(
                order_id=data["orderId"],
                actor=self.actor,
                return_code=data["returnCode"],
                message=data.get("returnMessage", ""),
                refund=data["sugarRefund"],
                account=self.site.account,
                channel=self.site.channel,
            )
        return self.action_response(data["orderId"], "Successfully Returned order")


class FabricOrderCancelView(FabricView):
    @extend_schema(
        operation_id="fabric_orders_cancel",
        tags=["fabric orders"],
        parameters=[SITE_CONTEXT, IF_MATCH, IDEMPOTENCY_KEY, etag_header(200)],
        request=s.CancelInput,
        responses={
            200: s.CancelOutput,
            **COMMON_ERRORS,
            **WRITE_ERRORS,
            400: _err(
                "INVALID_SITE_CONTEXT, VALIDATION_ERROR, PARSE_ERROR, INVALID_RETURN_CODE (field cancellationCode)"
            ),
            409: _err("ALREADY_CANCELLED / ORDER_NOT_CANCELLABLE (completed, returned, or already shipped)"),
        },
        description="Cancel an order before it ships. Appends a statusDescriptions entry; revision +1. A paid order is "
        "refunded what is still refundable, one refund per captured payment, in the same transaction (`refunds`).",
    )
    @idempotent
    def patch(self, request):
        data = self.validated(s.CancelInput)
        with self.locked(data["orderId"]):
            services.order_cancel(
                order_id=data["orderId"],
                actor=self.actor,
                cancellation_code=data["cancellationCode"],
                message=data.get("cancellationMessage", ""),
                account=self.site.account,
                channel=self.site.channel,
            )
        return self.action_response(data["orderId"], "Successfully Cancelled order", with_refunds=True)
