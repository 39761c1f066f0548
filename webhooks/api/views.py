"""``/api/v1/webhooks/``: subscriptions for managers and service accounts. Thin views over the services.

Who may do what (``webhooks.services``): the caller is always ``request.user`` (no on-behalf here: webhook
administration needs a manager's own credential or the service account itself). Managers see and change every
subscription. A service account sees and changes only the subscriptions it owns (someone else's answers 404
NOT_FOUND, like an unknown id) and subscribes only to the accounts it was granted (403 PERMISSION_DENIED otherwise).
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from config.api.query_params import DeclaredQueryParams
from config.api.serializers import ErrorBody
from config.people import is_manager, is_service
from webhooks import services
from webhooks.api import serializers as s
from webhooks.models import Delivery

ERRORS = {
    400: OpenApiResponse(
        ErrorBody,
        description="VALIDATION_ERROR / PARSE_ERROR (also a bad page or page_size). `account` must be a 24-character "
        "account id known to the system (the default account, or one an order or a fabric API key names).",
    ),
    401: OpenApiResponse(ErrorBody, description="AUTHENTICATION_REQUIRED / AUTHENTICATION_FAILED"),
    403: OpenApiResponse(
        ErrorBody,
        description="PERMISSION_DENIED: the caller is neither a manager (own credential) nor a service account; "
        "or (create, PATCH `account`) a service account named an account it was not granted (`field`: `account`). "
        "Nothing was changed.",
    ),
    404: OpenApiResponse(
        ErrorBody,
        description="NOT_FOUND: no such subscription, or one a service account does not own (answered alike, so "
        "its existence is not revealed; nothing was changed); or a page past the end.",
    ),
}
SCOPE = " Managers reach every subscription; a service account only those it owns (any other: 404, as if unknown)."


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class ManagerOrService(BasePermission):
    message = "Webhook subscriptions are for managers (their own credential) and service accounts"

    def has_permission(self, request, view) -> bool:
        return is_manager(request.user) or is_service(request.user)


class WebhooksView(DeclaredQueryParams, GenericAPIView):
    permission_classes = [ManagerOrService]

    def validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class SubscriptionListCreateView(WebhooksView):
    paginated = True
    serializer_class = s.SubscriptionOutput

    def get_queryset(self):
        return services.subscriptions_visible_to(self.request.user).order_by("created_at", "id")

    @extend_schema(
        responses={200: s.SubscriptionOutput(many=True), **errors(400, 401, 403, 404)},
        operation_id="webhooks_list",
        description="The subscriptions the caller may manage: every one for a manager, its own for a service account.",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(s.SubscriptionOutput(page, many=True).data)

    @extend_schema(
        request=s.SubscriptionInput,
        responses={201: s.SubscriptionWithSecretOutput, **errors(400, 401, 403)},
        operation_id="webhooks_create",
        description="Subscribe a URL to an account's events. The answer carries the signing secret: the only time "
        "it is shown. The caller owns the new subscription; a service account may subscribe only to the accounts it "
        "was granted (403 otherwise, nothing created).",
    )
    def post(self, request):
        data = self.validated(s.SubscriptionInput)
        created = services.subscription_create(actor=request.user, **data)
        body = {**s.SubscriptionOutput(created.subscription).data, "secret": created.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class SubscriptionDetailView(WebhooksView):
    serializer_class = s.SubscriptionOutput

    @extend_schema(
        responses={200: s.SubscriptionOutput, **errors(401, 403, 404)},
        operation_id="webhooks_retrieve",
        description="One subscription (never its secret)." + SCOPE,
    )
    def get(self, request, subscription_id: str):
        return Response(s.SubscriptionOutput(services.subscription_get(subscription_id, actor=request.user)).data)

    @extend_schema(
        request=s.SubscriptionUpdateInput,
        responses={200: s.SubscriptionOutput, **errors(400, 401, 403, 404)},
        operation_id="webhooks_update",
        description="Change the URL, event types, account or description; `active: true` re-activates a "
        "subscription disabled after failures (its pending events are delivered). A service account may move it "
        "only to an account it was granted (403 otherwise). The owner changes only in the admin." + SCOPE,
    )
    def patch(self, request, subscription_id: str):
        sub = services.subscription_get(subscription_id, actor=request.user)
        data = self.validated(s.SubscriptionUpdateInput)
        sub = services.subscription_update(actor=request.user, subscription=sub, changes=data)
        return Response(s.SubscriptionOutput(sub).data)

    @extend_schema(
        responses={204: None, **errors(401, 403, 404)},
        operation_id="webhooks_delete",
        description="Delete a subscription and its delivery log." + SCOPE,
    )
    def delete(self, request, subscription_id: str):
        sub = services.subscription_get(subscription_id, actor=request.user)
        services.subscription_delete(actor=request.user, subscription=sub)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SubscriptionRotateView(WebhooksView):
    serializer_class = s.SubscriptionWithSecretOutput

    @extend_schema(
        request=s.RotateInput,
        responses={200: s.SubscriptionWithSecretOutput, **errors(400, 401, 403, 404)},
        operation_id="webhooks_rotate_secret",
        description="A new secret, shown only now. The old one keeps signing beside it for `grace_hours` "
        "(default WEBHOOKS_SECRET_GRACE_HOURS), so receivers can switch without losing events." + SCOPE,
    )
    def post(self, request, subscription_id: str):
        sub = services.subscription_get(subscription_id, actor=request.user)
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
        description="Send a `webhook.test` event to this subscription." + SCOPE,
    )
    def post(self, request, subscription_id: str):
        sub = services.subscription_get(subscription_id, actor=request.user)
        delivery = services.subscription_send_test(actor=request.user, subscription=sub)
        delivery = Delivery.objects.select_related("event").get(pk=delivery.pk)
        return Response(s.DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class SubscriptionDeliveriesView(WebhooksView):
    paginated = True
    serializer_class = s.DeliveryOutput
    queryset = Delivery.objects.none()  # for the schema

    @extend_schema(
        responses={200: s.DeliveryOutput(many=True), **errors(400, 401, 403, 404)},
        operation_id="webhooks_deliveries",
        description="The subscription's deliveries, newest first." + SCOPE,
    )
    def get(self, request, subscription_id: str):
        sub = services.subscription_get(subscription_id, actor=request.user)
        deliveries = Delivery.objects.filter(subscription=sub).select_related("event").order_by("-id")
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(s.DeliveryOutput(page, many=True).data)
