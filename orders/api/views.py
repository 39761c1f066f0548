"""Back-office order endpoints: thin views that validate shape, call one service, serialize."""

from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from config.api.etag import IDEMPOTENCY_KEY, IF_MATCH, etag_header, if_match, with_etag
from config.api.filters import IntegerFilter, UTCIsoDateTimeFilter
from config.api.serializers import ErrorBody
from config.api.views import BackOfficeView
from config.idempotency import idempotent
from orders import selectors, services
from orders.api import serializers as s
from orders.errors import OrderNotFound
from orders.models import Category, Order, OrderItem, OrderStatus

ERRORS = {
    400: OpenApiResponse(ErrorBody, description="VALIDATION_ERROR / INVALID_FIELD_VALUE / PARSE_ERROR"),
    401: OpenApiResponse(ErrorBody, description="AUTHENTICATION_REQUIRED / AUTHENTICATION_FAILED"),
    403: OpenApiResponse(ErrorBody, description="PERMISSION_DENIED"),
    404: OpenApiResponse(ErrorBody, description="ORDER_NOT_FOUND / ITEM_NOT_FOUND / NOT_FOUND"),
    412: OpenApiResponse(ErrorBody, description="PRECONDITION_FAILED: If-Match is not the record's current ETag"),
    422: OpenApiResponse(ErrorBody, description="IDEMPOTENCY_KEY_REUSED: the key was used for another request"),
    429: OpenApiResponse(ErrorBody, description="RATE_LIMITED: too many writes from this caller (Retry-After)"),
}


def errors(*codes: int) -> dict:
    return {code: ERRORS.get(code, OpenApiResponse(ErrorBody)) for code in codes}


class OrderFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=OrderStatus.choices)
    customer_email = filters.CharFilter(field_name="customer_email", lookup_expr="iexact")
    created_after = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", param="created_after")
    created_before = UTCIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", param="created_before")
    search = filters.CharFilter(field_name="order_id", lookup_expr="startswith", label="Order id (prefix)")
    channel = IntegerFilter(field_name="channel", min_value=0)

    class Meta:
        model = Order
        fields = ["status", "customer_email", "created_after", "created_before", "search", "channel"]


class OrderListCreateView(BackOfficeView):
    paginated = True
    replica_methods = ("GET",)
    required_permissions = {"GET": "orders.view_order", "POST": "orders.add_order"}
    serializer_class = s.OrderOutput
    filterset_class = OrderFilter

    def get_queryset(self):
        return selectors.order_list()

    @extend_schema(responses={200: s.OrderOutput(many=True), **errors(400, 401, 403)}, operation_id="orders_list")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.OrderOutput(page, many=True).data)

    @extend_schema(
        request=s.OrderCreateInput,
        parameters=[IDEMPOTENCY_KEY, etag_header(201)],
        responses={201: s.OrderDetailOutput, **errors(400, 401, 403, 422, 429), 409: OpenApiResponse(ErrorBody)},
        operation_id="orders_create",
    )
    @idempotent
    def post(self, request):
        data = self.validated(s.OrderCreateInput)
        order = services.order_create(actor=self.actor(data), data=data)
        order = selectors.order_detail_queryset().get(pk=order.pk)
        return with_etag(Response(s.OrderDetailOutput(order).data, status=status.HTTP_201_CREATED), order.revision)


class OrderDetailView(BackOfficeView):
    required_permissions = {"GET": "orders.view_order", "PATCH": "orders.change_order"}
    serializer_class = s.OrderDetailOutput

    def get_object(self):
        order = selectors.order_detail_queryset().filter(order_id=self.kwargs["order_id"]).first()
        if order is None:
            raise OrderNotFound(order_id=self.kwargs["order_id"])
        return order

    @extend_schema(
        parameters=[etag_header(200)],
        responses={200: s.OrderDetailOutput, **errors(401, 403, 404)},
        operation_id="orders_retrieve",
    )
    def get(self, request, order_id: str):
        order = self.get_object()
        return with_etag(Response(s.OrderDetailOutput(order).data), order.revision)

    @extend_schema(
        request=s.OrderStatusInput,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, etag_header(200)],
        responses={
            200: s.OrderStatusOutput,
            **errors(400, 401, 403, 404, 412, 422, 429),
            409: OpenApiResponse(ErrorBody),
        },
        operation_id="orders_change_status",
        description="Move the order along its workflow. An illegal move is 409 INVALID_STATUS_TRANSITION.",
    )
    @idempotent
    def patch(self, request, order_id: str):
        data = self.validated(s.OrderStatusInput)
        actor = self.actor(data)
        with if_match(request, Order.objects.filter(order_id=order_id)):
            order, previous = services.order_change_status(
                order_id=order_id, actor=actor, status=data["status"], reason=data.get("reason", "")
            )
        response = Response(
            s.OrderStatusOutput(
                {
                    "success": True,
                    "message": "Order status updated",
                    "order_id": order.order_id,
                    "previous_status": previous,
                    "new_status": order.status,
                    "allowed_transitions": services.order_allowed_statuses(order),
                    "revision": order.revision,
                    "timestamp": timezone.now(),
                    "refunds": selectors.cancellation_refunds(order) if order.status != previous else [],
                }
            ).data
        )
        return with_etag(response, order.revision)


class OrderItemUpdateView(BackOfficeView):
    required_permissions = {"PATCH": "orders.change_orderitem"}
    serializer_class = s.OrderItemUpdateOutput

    @extend_schema(
        request=s.OrderItemUpdateInput,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, etag_header(200)],
        responses={
            200: s.OrderItemUpdateOutput,
            **errors(400, 401, 403, 404, 412, 422, 429),
            409: OpenApiResponse(ErrorBody),
        },
        operation_id="order_items_update",
        description="Update an item's metadata. Quantity, prices and identifiers are refused by name.",
    )
    @idempotent
    def patch(self, request, order_id: str, order_item_id: str):
        # Not-found first: a client learns nothing about the body of a request to a missing item.
        item = services.order_item_get(order_id=order_id, order_item_id=order_item_id)
        data = self.validated(s.OrderItemUpdateInput)
        actor = self.actor(data)
        changes = {k: v for k, v in data.items() if k != "updated_by"}
        with if_match(request, OrderItem.objects.filter(pk=item.pk)):
            result = services.order_item_update(
                order_id=order_id, order_item_id=order_item_id, actor=actor, changes=changes
            )
        message = "Order item successfully updated" if result.updated_fields else "No changes: values already current"
        response = Response(
            s.OrderItemUpdateOutput(
                {
                    "success": True,
                    "message": message,
                    "order_item_id": str(result.item.order_item_id),
                    "updated_fields": result.updated_fields,
                    "timestamp": result.timestamp,
                }
            ).data
        )
        return with_etag(response, result.item.revision)


class CategoryListCreateView(BackOfficeView):
    paginated = True
    required_permissions = {"GET": "orders.view_category", "POST": "orders.add_category"}
    serializer_class = s.CategoryOutput
    queryset = Category.objects.order_by("name")

    @extend_schema(
        responses={200: s.CategoryOutput(many=True), **errors(400, 401, 403)}, operation_id="categories_list"
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.CategoryOutput(page, many=True).data)

    @extend_schema(
        request=s.CategoryInput,
        responses={201: s.CategoryOutput, **errors(400, 401, 403), 409: OpenApiResponse(ErrorBody)},
        operation_id="categories_create",
    )
    def post(self, request):
        data = self.validated(s.CategoryInput)
        category = services.category_create(
            actor=self.actor(data), name=data["name"], description=data.get("description", "")
        )
        return Response(s.CategoryOutput(category).data, status=status.HTTP_201_CREATED)
