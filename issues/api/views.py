"""Issue endpoints: thin views that validate shape, call one service, serialize."""

from decimal import Decimal

from django.db import transaction
from django_filters import rest_framework as filters
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from config.api.etag import IDEMPOTENCY_KEY, IF_MATCH, etag_header, if_match, with_etag
from config.api.serializers import ErrorBody
from config.api.views import BackOfficeView
from config.counting import estimated_pagination
from config.idempotency import idempotent
from issues import selectors, services
from issues.api import serializers as s
from issues.errors import IssueNotFound
from issues.models import ApprovalKind, ApprovalState, IssuePriority, IssueStatus, IssueType, OrderIssue
from orders.services import order_get

ERRORS = {
    400: OpenApiResponse(ErrorBody, description="VALIDATION_ERROR / PARSE_ERROR"),
    401: OpenApiResponse(ErrorBody, description="AUTHENTICATION_REQUIRED / AUTHENTICATION_FAILED"),
    403: OpenApiResponse(ErrorBody, description="PERMISSION_DENIED (names the missing permission)"),
    404: OpenApiResponse(ErrorBody, description="ORDER_NOT_FOUND / ISSUE_NOT_FOUND / NOT_FOUND"),
    409: OpenApiResponse(ErrorBody, description="INVALID_STATUS_TRANSITION / CONCURRENT_UPDATE / DUPLICATE"),
    412: OpenApiResponse(ErrorBody, description="PRECONDITION_FAILED: If-Match is not the issue's current ETag"),
    422: OpenApiResponse(
        ErrorBody,
        description="REFUND_PROCESSING_ERROR (with refundable_amount) / IDEMPOTENCY_KEY_REUSED (the "
        "Idempotency-Key was used for another request)",
    ),
    429: OpenApiResponse(ErrorBody, description="RATE_LIMITED: too many writes from this caller (Retry-After)"),
}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}


class IssueFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=IssueStatus.choices)
    priority = filters.ChoiceFilter(choices=IssuePriority.choices)
    type = filters.ChoiceFilter(field_name="issue_type", choices=IssueType.choices)
    assigned_to = filters.CharFilter(method="filter_assigned_to", label="Assignee employee ID, or `me`")
    follow_up_due = filters.BooleanFilter(method="filter_follow_up_due", label="Follow-up due now")

    def filter_assigned_to(self, queryset, name, value):
        if value == "me":
            return queryset.filter(assigned_to=self.request.user)
        return queryset.filter(assigned_to__username=value)

    def filter_follow_up_due(self, queryset, name, value):
        due = selectors.follow_up_due_q()
        return queryset.filter(due) if value else queryset.exclude(due)


class ApprovalFilter(filters.FilterSet):
    state = filters.ChoiceFilter(choices=ApprovalState.choices)
    kind = filters.ChoiceFilter(choices=ApprovalKind.choices)


class WholeBodyPatchSchema(AutoSchema):
    """Our PATCH bodies are validated whole (``updated_by`` is required), not as DRF partial updates:
    document them that way instead of as an all-optional ``Patched...`` component."""

    def _get_request_for_media_type(self, serializer, direction="request"):
        method, self.method = self.method, ("PUT" if self.method == "PATCH" else self.method)
        try:
            return super()._get_request_for_media_type(serializer, direction)
        finally:
            self.method = method


class OrderIssueListCreateView(BackOfficeView):
    paginated = True
    required_permissions = {"GET": "issues.view_orderissue", "POST": "issues.add_orderissue"}
    serializer_class = s.IssueOutput
    filterset_class = IssueFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no URL kwargs
            return OrderIssue.objects.none()
        return selectors.issue_list().filter(order__order_id=self.kwargs["order_id"])

    @extend_schema(
        responses={200: s.IssueOutput(many=True), **errors(400, 401, 403, 404)}, operation_id="order_issues_list"
    )
    def get(self, request, order_id: str):
        order_get(order_id)
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.IssueOutput(page, many=True).data)

    @extend_schema(
        request=s.IssueCreateInput,
        parameters=[IDEMPOTENCY_KEY, etag_header(201)],
        responses={201: s.IssueDetailOutput, **errors(400, 401, 403, 404, 422, 429)},
        operation_id="order_issues_create",
        description="Report an issue on an order; `notes` becomes the first entry of its communication log.",
    )
    @idempotent
    def post(self, request, order_id: str):
        order_get(order_id)
        data = self.validated(s.IssueCreateInput)
        actor = self.actor(data, field="created_by")
        issue = services.issue_create(order_id=order_id, actor=actor, data=data)
        issue = selectors.with_refunds(selectors.issue_detail().get(pk=issue.pk))
        return with_etag(Response(s.IssueDetailOutput(issue).data, status=status.HTTP_201_CREATED), issue.revision)


class OrderIssueDetailView(BackOfficeView):
    required_permissions = {"GET": "issues.view_orderissue", "PATCH": "issues.change_orderissue"}
    schema = WholeBodyPatchSchema()
    serializer_class = s.IssueDetailOutput

    def get_object(self):
        order_get(self.kwargs["order_id"])
        issue = (
            selectors.issue_detail()
            .filter(order__order_id=self.kwargs["order_id"], issue_id=self.kwargs["issue_id"])
            .first()
        )
        if issue is None:
            raise IssueNotFound(issue_id=self.kwargs["issue_id"], order_id=self.kwargs["order_id"])
        return issue

    @extend_schema(
        parameters=[etag_header(200)],
        responses={200: s.IssueDetailOutput, **errors(401, 403, 404)},
        operation_id="order_issues_retrieve",
    )
    def get(self, request, order_id: str, issue_id: str):
        issue = selectors.with_refunds(self.get_object())
        return with_etag(Response(s.IssueDetailOutput(issue).data), issue.revision)

    @extend_schema(
        request=s.IssueUpdateInput,
        parameters=[IF_MATCH, IDEMPOTENCY_KEY, etag_header(200, 202)],
        responses={
            200: s.IssueUpdateResultOutput,
            202: OpenApiResponse(
                s.IssueApprovalRequestedOutput,
                description="An escalation or reopening the caller may not apply directly, or a refund over the "
                "employee's refund limit: every other field was applied and a pending approval request was "
                "created (nothing refunded); a status move asked for leaves new_status equal to previous_status.",
            ),
            **errors(400, 401, 403, 404, 409, 412, 422, 429),
        },
        operation_id="order_issues_update",
        description="Update an issue as it moves towards resolution. A refused update changes nothing. "
        "A refund is initiated here (`refund_id`, `refund_status`: pending) and processed in the background: its "
        "outcome (completed, or failed with a reason) shows in the issue's `refunds` and the refund.completed / "
        "refund.failed webhooks.",
    )
    @idempotent
    def patch(self, request, order_id: str, issue_id: str):
        with transaction.atomic():
            # Not-found first: a client learns nothing about the body of a request to a missing issue. The row is
            # read once, locked, and stays locked through the update.
            issue = services.issue_locked(order_id=order_id, issue_id=issue_id)
            data = self.validated(s.IssueUpdateInput)
            actor = self.actor(data)
            changes = {k: v for k, v in data.items() if k != "updated_by"}
            with if_match(request, current=issue.revision):
                result = services.issue_update_locked(issue=issue, actor=actor, changes=changes)
        body = {
            "success": True,
            "message": result.message,
            "issue_id": result.issue.issue_id,
            "updated_fields": result.updated_fields,
            "previous_status": result.previous_status,
            "new_status": result.new_status,
            "refund_processed": result.refund_processed,
            # The refund as this update left it (pending: processing runs after commit), from memory: no query.
            "refund_id": result.refund.refund_id if result.refund is not None else None,
            "refund_status": result.refund.status if result.refund is not None else None,
            "timestamp": result.timestamp,
        }
        if result.approvals:
            moves = [a for a in result.approvals if a.kind != ApprovalKind.REFUND]
            refunds = [a for a in result.approvals if a.kind == ApprovalKind.REFUND]
            body |= {
                "approval_request_id": result.approvals[0].approval_id,
                "approval_kind": result.approvals[0].kind,
                "requested_status": moves[0].requested_status if moves else None,
                "requested_refund_amount": Decimal(refunds[0].payload["amount"]) if refunds else None,
                "approval_request_ids": [a.approval_id for a in result.approvals],
            }
            response = Response(s.IssueApprovalRequestedOutput(body).data, status=status.HTTP_202_ACCEPTED)
        else:
            response = Response(s.IssueUpdateResultOutput(body).data)
        return with_etag(response, result.issue.revision)


class OrderIssueHistoryView(OrderIssueDetailView):
    required_permissions = {"GET": "issues.view_orderissue"}
    serializer_class = s.IssueHistoryOutput
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses={200: s.IssueHistoryOutput, **errors(401, 403, 404)}, operation_id="order_issues_history")
    def get(self, request, order_id: str, issue_id: str):
        issue = self.get_object()
        body = {
            "issue_id": issue.issue_id,
            **selectors.issue_history(issue),
            "notes": issue.notes.all(),
            "refunds": selectors.issue_refunds(issue),
        }
        return Response(s.IssueHistoryOutput(body).data)


class IssueListView(BackOfficeView):
    paginated = True
    replica_methods = ("GET",)
    pagination_class = estimated_pagination()  # the whole queue: no exact COUNT(*) over a million issues
    required_permissions = {"GET": "issues.view_orderissue"}
    serializer_class = s.IssueOutput
    filterset_class = IssueFilter

    def get_queryset(self):
        return selectors.issue_list()

    @extend_schema(responses={200: s.IssueOutput(many=True), **errors(400, 401, 403)}, operation_id="issues_list")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.IssueOutput(page, many=True).data)


class IssueMetricsView(BackOfficeView):
    query_params = {"GET": tuple(s.MetricsQuery._declared_fields)}
    required_permissions = {"GET": "issues.view_orderissue"}
    serializer_class = s.MetricsOutput

    @extend_schema(
        parameters=[
            OpenApiParameter("created_after", OpenApiTypes.DATETIME, description="Issues created at or after"),
            OpenApiParameter("created_before", OpenApiTypes.DATETIME, description="Issues created before"),
        ],
        responses={200: s.MetricsOutput, **errors(400, 401, 403)},
        operation_id="issues_metrics",
    )
    def get(self, request):
        # A plain dict: from a QueryDict DRF would read an empty value as "not given".
        query = self.validated(s.MetricsQuery, data=request.query_params.dict())
        return Response(s.MetricsOutput(selectors.issue_metrics(**query)).data)


class ApprovalListView(BackOfficeView):
    paginated = True
    required_permissions = {"GET": "issues.view_approvalrequest"}
    serializer_class = s.ApprovalOutput
    filterset_class = ApprovalFilter

    def get_queryset(self):
        return selectors.approval_list()

    @extend_schema(responses={200: s.ApprovalOutput(many=True), **errors(400, 401, 403)}, operation_id="approvals_list")
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.ApprovalOutput(page, many=True).data)


class ApprovalDecisionView(BackOfficeView):
    required_permissions = {"POST": "issues.view_approvalrequest"}
    serializer_class = s.ApprovalOutput
    approve = True

    @extend_schema(
        request=s.ApprovalDecisionInput,
        responses={200: s.ApprovalOutput, **errors(400, 401, 403, 404, 409)},
        description="A manager, never the requester. Approving applies the requested transition now (409 if it "
        "is no longer legal).",
    )
    def post(self, request, approval_id: str):
        data = self.validated(s.ApprovalDecisionInput)
        actor = self.actor(data, field="decided_by")
        services.approval_decide(approval_id=approval_id, actor=actor, approve=self.approve, note=data["note"])
        approval = selectors.approval_list().get(approval_id=approval_id)
        return Response(s.ApprovalOutput(approval).data)


class ApprovalApproveView(ApprovalDecisionView):
    approve = True

    @extend_schema(
        request=s.ApprovalDecisionInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.ApprovalOutput, **errors(400, 401, 403, 404, 409, 422, 429)},
        operation_id="approvals_approve",
        description="A manager, never the requester. Applies the requested transition now (409 if it is no "
        "longer legal).",
    )
    @idempotent
    def post(self, request, approval_id: str):
        return super().post(request, approval_id)


class ApprovalRejectView(ApprovalDecisionView):
    approve = False

    @extend_schema(
        request=s.ApprovalDecisionInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.ApprovalOutput, **errors(400, 401, 403, 404, 409, 422, 429)},
        operation_id="approvals_reject",
        description="A manager, never the requester. The issue is left as it is.",
    )
    @idempotent
    def post(self, request, approval_id: str):
        return super().post(request, approval_id)


class ApprovalCancelView(BackOfficeView):
    required_permissions = {"POST": "issues.view_approvalrequest"}
    serializer_class = s.ApprovalOutput

    @extend_schema(
        request=s.ApprovalCancelInput,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.ApprovalOutput, **errors(400, 401, 403, 404, 409, 422, 429)},
        operation_id="approvals_cancel",
        description="The requester (or a manager) withdraws a pending request.",
    )
    @idempotent
    def post(self, request, approval_id: str):
        data = self.validated(s.ApprovalCancelInput)
        actor = self.actor(data, field="decided_by")
        services.approval_cancel(approval_id=approval_id, actor=actor, note=data.get("note", ""))
        return Response(s.ApprovalOutput(selectors.approval_list().get(approval_id=approval_id)).data)
