"""Back-office line-level returns: ``/api/v1/orders/{order_id}/returns`` (POST records, GET lists)."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from config.api.etag import IDEMPOTENCY_KEY, IF_MATCH, etag_header, if_match, with_etag
from config.api.serializers import ErrorBody
from config.api.views import BackOfficeView
from config.idempotency import idempotent
from orders.models import Order
from orders.services import order_get
from returns import selectors, services
from returns.api import serializers as s
from returns.models import ReturnChannel


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorBody, description=description)


class OrderReturnsView(BackOfficeView):
    required_permissions = {"GET": "returns.view_return", "POST": "returns.add_return"}
    serializer_class = s.ReturnOutput
    pagination_class = None

    @extend_schema(
        operation_id="order_returns_list",
        tags=["returns"],
        responses={
            200: s.ReturnListOutput,
            401: _err("AUTHENTICATION_REQUIRED / AUTHENTICATION_FAILED"),
            403: _err("PERMISSION_DENIED"),
            404: _err("ORDER_NOT_FOUND"),
        },
    )
    def get(self, request, order_id: str):
        order = order_get(order_id)
        returns = selectors.returns_for_order(order)
        return Response(
            s.ReturnListOutput(
                {
                    "success": True,
                    "order_id": order.order_id,
                    "order_status": order.status,
                    "count": len(returns),
                    "results": returns,
                }
            ).data
        )

    @extend_schema(
        operation_id="order_returns_create",
        tags=["returns"],
        request=s.ReturnCreateInput,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, etag_header(201)],
        responses={
            201: s.ReturnCreateOutput,
            400: _err(
                "VALIDATION_ERROR (quantities beyond what is still returnable, duplicate items, shape), "
                "INVALID_RETURN_CODE (field return_code), PARSE_ERROR"
            ),
            401: _err("AUTHENTICATION_REQUIRED / AUTHENTICATION_FAILED"),
            403: _err("PERMISSION_DENIED (also: updated_by is not the authenticated employee)"),
            404: _err("ORDER_NOT_FOUND / ITEM_NOT_FOUND"),
            409: _err("ORDER_NOT_RETURNABLE / ALREADY_RETURNED / CONCURRENT_UPDATE"),
            412: _err("PRECONDITION_FAILED: If-Match is not the order's current ETag"),
            422: _err("REFUND_PROCESSING_ERROR / IDEMPOTENCY_KEY_REUSED (the key was used for another request)"),
            429: _err("RATE_LIMITED: too many writes from this caller (Retry-After)"),
        },
        description=(
            "Return some quantities of an order's items. Quantities cannot pass what was bought minus what was "
            "returned already. With `refund`, the lines' share of what was paid goes back through the ledger "
            "(capped by what other refunds left). The order becomes partially_returned, or returned when nothing "
            "is left. `restock` is recorded on the return."
        ),
    )
    @idempotent
    def post(self, request, order_id: str):
        order_get(order_id)  # not found before anything about the body
        serializer = s.ReturnCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = self.actor(data)
        with if_match(request, Order.objects.filter(order_id=order_id)):
            ret = services.order_return_lines(
                order_id=order_id,
                actor=services.ReturnActor.employee(actor, via=ReturnChannel.BACKOFFICE_API),
                return_code=data["return_code"],
                lines=[services.LineRequest(str(i["order_item_id"]), i["quantity"]) for i in data["items"]],
                message=data.get("message", ""),
                refund=data["refund"],
                restock=data["restock"],
            )
        ret = selectors.return_detail(ret.pk)
        response = Response(
            s.ReturnCreateOutput(
                {
                    "success": True,
                    "message": "Return recorded",
                    "order_id": ret.order.order_id,
                    "order_status": ret.order.status,
                    "revision": ret.order.revision,
                    "return": ret,
                    "timestamp": timezone.now(),
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
        return with_etag(response, ret.order.revision)
