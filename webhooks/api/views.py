"""``/api/v1/webhooks/``: subscriptions for managers and service accounts. Thin views over the services."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from config.api.serializers import ErrorBody
from config.people import is_manager, is_service
from webhooks import services
from webhooks.api import serializers as s
from webhooks.models import Delivery, Subscription

ERRORS = {
    400: OpenApiResponse(ErrorBody, description="VALIDATION_ERROR / PARSE_ERROR (also a bad page or page_size)"),
    401: OpenApiResponse(ErrorBody, description="AUTHENTICATION_REQUIRED / AUTHENTICATION_FAILED"),
    403: OpenApiResponse(ErrorBody, description="PERMISSION_DENIED"),
    404: OpenApiResponse(ErrorBody, description="NOT_FOUND (subscription, or a page past the end)"),
}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class ManagerOrService(BasePermission):
    message = "Webhook subscriptions are for managers and service accounts"

    def has_permission(self, request, view) -> bool:
        return is_manager(request.user) or is_service(request.user)


class WebhooksView(GenericAPIView):
    permission_classes = [ManagerOrService]

    def validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class SubscriptionListCreateView(WebhooksView):
    serializer_class = s.SubscriptionOutput

    def get_queryset(self):
        return Subscription.objects.order_by("created_at", "id")

    @extend_schema(
        responses={200: s.SubscriptionOutput(many=True), **errors(400, 401, 403, 404)}, operation_id="webhooks_list"
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.SubscriptionOutput(page, many=True).data)

    @extend_schema(
        request=s.SubscriptionInput,
        responses={201: s.SubscriptionWithSecretOutput, **errors(400, 401, 403)},
        operation_id="webhooks_create",
        description="Subscribe a URL. The answer carries the signing secret: the only time it is shown.",
    )
    def post(self, request):
        data = self.validated(s.SubscriptionInput)
        created = services.subscription_create(actor=request.user, **data)
        body = {**s.SubscriptionOutput(created.subscription).data, "secret": created.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(WebhooksView):
    serializer_class = s.SubscriptionOutput

    @extend_schema(responses={200: s.SubscriptionOutput, **errors(401, 403, 404)}, operation_id="webhooks_retrieve")
    def get(self, request, subscription_id: str):
        return Response(s.SubscriptionOutput(services.subscription_get(subscription_id)).data)

    @extend_schema(
        request=s.SubscriptionUpdateInput,
        responses={200: s.SubscriptionOutput, **errors(400, 401, 403, 404)},
        operation_id="webhooks_update",
        description="Change the URL, event types, account or description; `active: true` re-activates a "
        "subscription disabled after failures (its pending events are delivered).",
    )
    def patch(self, request, subscription_id: str):
        sub = services.subscription_get(subscription_id)
        data = self.validated(s.SubscriptionUpdateInput)
        sub = services.subscription_update(actor=request.user, subscription=sub, changes=data)
        return Response(s.SubscriptionOutput(sub).data)

    @extend_schema(responses={204: None, **errors(401, 403, 404)}, operation_id="webhooks_delete")
    def delete(self, request, subscription_id: str):
        services.subscription_delete(actor=request.user, subscription=services.subscription_get(subscription_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionRotateView(WebhooksView):
    serializer_class = s.SubscriptionWithSecretOutput

    @extend_schema(
        request=s.RotateInput,
        responses={200: s.SubscriptionWithSecretOutput, **errors(400, 401, 403, 404)},
        operation_id="webhooks_rotate_secret",
        description="A new secret, shown only now. The old one keeps signing beside it for `grace_hours` "
        "(default WEBHOOKS_SECRET_GRACE_HOURS), so receivers can switch without losing events.",
    )
    def post(self, request, subscription_id: str):
        sub = services.subscription_get(subscription_id)
        data = self.validated(s.RotateInput)
        secret = services.subscription_rotate_secret(
            actor=request.user, subscription=sub, grace_hours=data.get("grace_hours")
        )
        sub.refresh_from_db()
        return Response({**s.SubscriptionOutput(sub).data, "secret": secret})


class SubscriptionTestView(WebhooksView):
    serializer_class = s.DeliveryOutput

    @extend_schema(
        request=None,
        responses={202: s.DeliveryOutput, **errors(401, 403, 404)},
        operation_id="webhooks_send_test",
        description="Send a `webhook.test` event to this subscription.",
    )
    def post(self, request, subscription_id: str):
        sub = services.subscription_get(subscription_id)
        delivery = services.subscription_send_test(actor=request.user, subscription=sub)
        delivery = Delivery.objects.select_related("event").get(pk=delivery.pk)
        return Response(s.DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class SubscriptionDeliveriesView(WebhooksView):
    serializer_class = s.DeliveryOutput
    queryset = Delivery.objects.none()  # for the schema

    def get_queryset(self):
        return (
            Delivery.objects.filter(subscription__subscription_id=self.kwargs.get("subscription_id"))
            .select_related("event")
            .order_by("-id")
        )

    @extend_schema(
        responses={200: s.DeliveryOutput(many=True), **errors(400, 401, 403, 404)}, operation_id="webhooks_deliveries"
    )
    def get(self, request, subscription_id: str):
        services.subscription_get(subscription_id)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.DeliveryOutput(page, many=True).data)
