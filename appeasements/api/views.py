"""The commerce-agent appeasement API (``/ccagent/v1/appeasements``, docs/api/ccagent.md): thin views over services.

``Authorization: Bearer <token>`` (the employee's API token), optional ``x-ccsite`` (30014 when unknown);
every error answers the seed's errorModel (``appeasements.errors``).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from appeasements import selectors, services
from appeasements.api import serializers as s
from appeasements.api.auth import BearerTokenAuthentication
from appeasements.errors import InvalidInput, InvalidSite
from appeasements.models import Appeasement
from config.api.etag import IDEMPOTENCY_KEY, IF_MATCH, etag_header, if_match, with_etag
from config.api.permissions import EmployeePermission
from config.api.query_params import DeclaredQueryParams
from config.counting import estimated_count
from config.idempotency import idempotent

SITE = OpenApiParameter(
    "x-ccsite",
    {"type": "string", "enum": list(settings.CCAGENT_SITES)},
    OpenApiParameter.HEADER,
    required=False,
    description="The site id (optional). An unknown site is refused with 30014.",
)


def _err(description: str) -> OpenApiResponse:
    return OpenApiResponse(s.CCError, description=description)


COMMON = {
    400: _err("13001 invalid input (the field is named), 30014 unknown x-ccsite"),
    401: _err("401: missing or invalid Bearer token"),
    403: _err(
        "403: missing permission; agentId is not the caller (only service accounts act for others, for the roles "
        "they were granted); or the appeasement is another agent's (only its agent or a manager may change it)"
    ),
    405: _err("13001: method not allowed on this path"),
    415: _err("13001: the body is not JSON"),
    500: _err("900000: unexpected error"),
}
WRITE = {
    **COMMON,
    400: _err(
        "13001 invalid input (unknown orderId, currency differs from the order's, creditCard without a payment "
        "group of the order, amount not positive, total past what is refundable, ...), 900017 unknown "
        "refundType, 900016 invalid according to the validation webhook (on submit), 30014 unknown x-ccsite"
    ),
    409: _err("900036: wrong state for the operation (order pending/canceled, appeasement no longer INCOMPLETE)"),
    412: _err("412: If-Match is not the appeasement's current ETag; nothing was changed"),
    422: _err("13001: the Idempotency-Key was already used for another request"),
    429: _err("429: too many writes from this caller (Retry-After)"),
    502: _err("900015: the validation webhook did not answer or failed (on submit)"),
}
SEED_REQUEST = {
    "reason": "incorrectItem",
    "agentId": "service",
    "notes": "Providing an appeasement of 20 USD which is 20% of the Order Total, according to the appeasement policy.",
    "comments": [
        {
            "agentId": "AgentBob",
            "comment": "Appeasement to be settled on priority. Valued customer.",
            "id": 100001,
            "creationDate": "2020-03-20T04:56:13.935Z",
        },
        {"agentId": "AgentBob", "comment": "Appeasement settled", "creationDate": "2020-04-20T04:56:13.935Z"},
    ],
    "orderId": "o1234",
    "appeasementRefunds": [
        {
            "paymentGroupId": "pg1001",
            "refundType": "externalRefund",
            "amount": 20,
            "id": "ar1234",
            "state": "COMPLETE",
            "currencyCode": "USD",
        }
    ],
    "profileId": "se-570031",
    "state": "SUBMITTED",
    "type": "order",
}


def to_input(data: dict) -> services.AppeasementInput:
    refunds = data.get("appeasementRefunds")
    comments = data.get("comments")
    return services.AppeasementInput(
        order_id=data.get("orderId"),
        profile_id=data.get("profileId"),
        agent_id=data.get("agentId"),
        reason=data.get("reason"),
        type=data.get("type"),
        notes=data.get("notes"),
        issue_id=data.get("issueId"),
        state=data.get("state"),
        refunds=None
        if refunds is None
        else [
            services.RefundInput(
                id=r.get("id"),
                refund_type=r.get("refundType") or r.get("type"),
                amount=r["amount"],
                currency_code=r.get("currencyCode"),
                payment_group_id=r.get("paymentGroupId") or None,
            )
            for r in refunds
        ],
        comments=None
        if comments is None
        else [services.CommentInput(id=c.get("id"), agent_id=c.get("agentId"), comment=c["comment"]) for c in comments],
        given=set(data),
    )


class CCAgentView(DeclaredQueryParams, APIView):
    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [EmployeePermission]
    required_permissions: dict[str, str] = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # 401, then 403
        site = request.headers.get("x-ccsite")
        if site is not None and site not in settings.CCAGENT_SITES:
            raise InvalidSite(f"Unknown site '{site}' in x-ccsite", field="x-ccsite")

    def validated(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @staticmethod
    def output(appeasement_pk: int, code: int = status.HTTP_200_OK) -> Response:
        fresh = selectors.appeasement_queryset().get(pk=appeasement_pk)
        return with_etag(Response(s.AppeasementOutput(fresh).data, status=code), fresh.revision)

    def locked(self, appeasement_id):
        """``If-Match`` against the appeasement's revision, checked under its row lock."""
        return if_match(self.request, Appeasement.objects.filter(appeasement_id=str(appeasement_id)))


class AppeasementListCreateView(CCAgentView):
    query_params = {"GET": ("orderId", "profileId", "state", "limit", "offset")}
    required_permissions = {"GET": "appeasements.view_appeasement", "POST": "appeasements.add_appeasement"}

    @extend_schema(
        operation_id="ccagent_appeasements_list",
        tags=["ccagent appeasements"],
        parameters=[
            SITE,
            OpenApiParameter("orderId", str, description="Only this order's appeasements."),
            OpenApiParameter("profileId", str, description="Only this customer's appeasements."),
            OpenApiParameter("state", str, enum=["INCOMPLETE", "PENDING_APPROVAL", "SUBMITTED", "REJECTED"]),
            OpenApiParameter(
                "limit", {"type": "integer", "minimum": 1, "maximum": 250}, description="Page size (default 20)."
            ),
            OpenApiParameter(
                "offset", {"type": "integer", "minimum": 0, "maximum": 10**9}, description="Rows to skip (default 0)."
            ),
        ],
        responses={200: s.AppeasementListOutput, **COMMON},
        description="Appeasements, newest first, with `totalResults`, `limit`, `offset` and `items`.",
    )
    def get(self, request):
        params = request.query_params
        limit = _int_param(params, "limit", 20, 1, 250)
        offset = _int_param(params, "offset", 0, 0, 10**9)
        state = params.get("state")
        if state is not None and state not in s.AppeasementState.values:
            raise InvalidInput.single("state", f"Must be one of {', '.join(s.AppeasementState.values)}")
        qs = selectors.appeasement_list(
            order_id=params.get("orderId", ""), profile_id=params.get("profileId", ""), state=state or ""
        )
        total = estimated_count(qs)[0]  # the planner's estimate over big results: no COUNT(*) of them all
        items = list(qs[offset : offset + limit]) if total > offset else []
        return Response(
            s.AppeasementListOutput({"totalResults": total, "limit": limit, "offset": offset, "items": items}).data
        )

    @extend_schema(
        operation_id="ccagent_appeasements_create",
        tags=["ccagent appeasements"],
        parameters=[SITE, IDEMPOTENCY_KEY, etag_header(201)],
        request=s.AppeasementCreateInput,
        responses={201: s.AppeasementOutput, **WRITE},
        description=(
            "Create an appeasement (state `INCOMPLETE`; `state: SUBMITTED` submits it at once). Refunds and "
            "comments get new ids; `agentId` defaults to the caller."
        ),
    )
    @idempotent
    def post(self, request):
        data = self.validated(s.AppeasementCreateInput)
        appeasement = services.appeasement_create(caller=request.user, data=to_input(data))
        return self.output(appeasement.pk, status.HTTP_201_CREATED)


def _int_param(params, name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput.single(name, "Must be a whole number") from None
    if not low <= value <= high:
        raise InvalidInput.single(name, f"Must be between {low} and {high}")
    return value


class AppeasementDetailView(CCAgentView):
    query_params = {"DELETE": ("agentId",)}
    required_permissions = {
        "GET": "appeasements.view_appeasement",
        "PUT": "appeasements.change_appeasement",
        "DELETE": "appeasements.delete_appeasement",
    }

    @extend_schema(
        operation_id="ccagent_appeasements_retrieve",
        tags=["ccagent appeasements"],
        parameters=[SITE, etag_header(200)],
        responses={200: s.AppeasementOutput, 404: _err("900002: unknown appeasement id"), **COMMON},
    )
    def get(self, request, appeasement_id: str):
        return self.output(services.appeasement_get(appeasement_id).pk)

    @extend_schema(
        operation_id="ccagent_appeasements_update",
        tags=["ccagent appeasements"],
        parameters=[SITE, IF_MATCH, IDEMPOTENCY_KEY, etag_header(200)],
        request=s.AppeasementUpdateInput,
        responses={200: s.AppeasementOutput, 404: _err("900002: unknown appeasement id"), **WRITE},
        examples=[OpenApiExample("The seed's request", value=SEED_REQUEST, request_only=True)],
        description=(
            "updateAppeasement. A refund with an `id` updates that refund, one without gets a new `id`, and "
            "refunds missing from `appeasementRefunds` are removed (when the list is given). Comments are "
            "append-only: without `id` added with a new `id` and `creationDate`; with an `id` they must match. "
            "`state: SUBMITTED` submits (over policy: `PENDING_APPROVAL`). Once submitted only `notes` and new "
            "comments are accepted (900036 otherwise; repeating the same values is fine)."
        ),
    )
    @idempotent
    def put(self, request, appeasement_id: str):
        data = self.validated(s.AppeasementUpdateInput)
        if data.get("id") not in (None, appeasement_id):
            raise InvalidInput.single("id", "Must be the appeasement id of the path")
        if not set(data) - {"id"}:  # nothing to change: refused, and the revision stays where it is
            raise InvalidInput.single("body", "An update needs at least one field to change")
        with self.locked(appeasement_id):
            appeasement = services.appeasement_update(
                appeasement_id=appeasement_id, caller=request.user, data=to_input(data)
            )
        return self.output(appeasement.pk)

    @extend_schema(
        operation_id="ccagent_appeasements_delete",
        tags=["ccagent appeasements"],
        parameters=[
            SITE,
            IF_MATCH,
            IDEMPOTENCY_KEY,
            OpenApiParameter(
                "agentId",
                str,
                description="A service account deleting on behalf of the appeasement's agent names them here "
                "(as `agentId` in a body); otherwise the caller deletes it as themselves.",
            ),
        ],
        request=None,
        description="Delete an INCOMPLETE appeasement: its agent, or a manager with their own credential.",
        responses={
            204: OpenApiResponse(description="Deleted"),
            404: _err("900002: unknown appeasement id"),
            409: _err("900036: only INCOMPLETE appeasements can be deleted"),
            412: WRITE[412],
            422: WRITE[422],
            429: WRITE[429],
            **COMMON,
        },
    )
    @idempotent
    def delete(self, request, appeasement_id: str):
        with self.locked(appeasement_id):
            services.appeasement_delete(
                appeasement_id=appeasement_id, caller=request.user, agent_id=request.query_params.get("agentId")
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class AppeasementInitiateView(CCAgentView):
    required_permissions = {"POST": "appeasements.view_appeasement"}

    @extend_schema(
        operation_id="ccagent_appeasements_initiate",
        tags=["ccagent appeasements"],
        parameters=[SITE],
        request=s.AppeasementInitiateInput,
        responses={200: s.AppeasementInitiateOutput, **COMMON},
        description=(
            "For an `orderId`: whether it can be appeased, the refundable amount, the policy limit, the allowed "
            "refund types and reasons, and the order's payment groups. Unknown orderId: 13001."
        ),
    )
    def post(self, request):
        data = self.validated(s.AppeasementInitiateInput)
        order = services.appeasement_order_get(data["orderId"])
        return Response(s.AppeasementInitiateOutput(selectors.appeasement_initiation(order)).data)


class AppeasementSubmitView(CCAgentView):
    required_permissions = {"POST": "appeasements.change_appeasement"}

    @extend_schema(
        operation_id="ccagent_appeasements_submit",
        tags=["ccagent appeasements"],
        parameters=[SITE, IF_MATCH, IDEMPOTENCY_KEY, etag_header(200, 201)],
        request=s.AppeasementSubmitInput,
        responses={
            200: OpenApiResponse(s.AppeasementOutput, description="An existing appeasement, submitted"),
            201: OpenApiResponse(s.AppeasementOutput, description="Created and submitted"),
            404: _err("900002: unknown appeasement id"),
            **WRITE,
        },
        description=(
            "Submit an existing appeasement by `id` (optionally with `agentId`), or create and submit one from a "
            "full body. Within policy it is `SUBMITTED` and its refunds go through the refund ledger; over policy "
            "(share of the order total, or the agent's limit) it is `PENDING_APPROVAL` in the managers' queue."
        ),
    )
    @idempotent
    def post(self, request):
        data = self.validated(s.AppeasementSubmitInput)
        if "id" in data:
            extra = sorted(set(data) - {"id", "agentId"})
            if extra:
                raise InvalidInput.single(extra[0], "Submitting an existing appeasement takes only id and agentId")
            with self.locked(data["id"]):
                appeasement = services.appeasement_submit(
                    appeasement_id=data["id"], caller=request.user, agent_id=data.get("agentId")
                )
            return self.output(appeasement.pk)
        if "state" in data and data["state"] != s.AppeasementState.SUBMITTED:
            raise InvalidInput.single("state", "Must be SUBMITTED (or omitted) here")
        for required in ("orderId", "reason"):
            if required not in data:
                raise InvalidInput.single(required, "This field is required")
        payload = {**data, "state": s.AppeasementState.SUBMITTED}
        appeasement = services.appeasement_create(caller=request.user, data=to_input(payload))
        return self.output(appeasement.pk, status.HTTP_201_CREATED)
