"""Shapes of the issue API (snake_case). Shape only: the rules live in issues.services."""

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

from config.api.serializers import MoneyField, StrictInputSerializer
from issues.models import (
    ApprovalKind,
    ApprovalState,
    IssuePriority,
    IssueStatus,
    IssueType,
    NoteChannel,
    NoteKind,
)
from orders.models import RefundSource, RefundStatus

NOTES_ERRORS = {"blank": "Cannot be empty", "null": "Cannot be empty", "max_length": "Must be at most 2000 characters"}


def _employee_id(**kwargs):
    return serializers.CharField(max_length=150, **kwargs)


# ----------------------------------------------------------------- input


class IssueCreateInput(StrictInputSerializer):
    issue_type = serializers.ChoiceField(choices=IssueType.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    priority = serializers.ChoiceField(choices=IssuePriority.choices, required=False, default=IssuePriority.MEDIUM)
    order_item_ids = serializers.ListField(child=serializers.UUIDField(), required=False, max_length=500)
    assigned_to = _employee_id(required=False, allow_null=True)
    notes = serializers.CharField(max_length=2000, required=False, error_messages=NOTES_ERRORS)
    created_by = _employee_id(required=False)


class IssueUpdateInput(StrictInputSerializer):
    """The issue update contract's request body, exactly."""

    notes = serializers.CharField(
        max_length=2000, required=False, trim_whitespace=False, error_messages=NOTES_ERRORS,
        help_text="Added to the communication log. Required when moving to resolved or closed and when raising "
        "the priority. At most 2000 characters, not empty.",
    )  # fmt: skip
    priority = serializers.ChoiceField(choices=IssuePriority.choices, required=False)
    status = serializers.ChoiceField(choices=IssueStatus.choices, required=False)
    refund_amount = MoneyField(required=False, help_text="Positive; needs refund_source; at most what is refundable.")
    refund_source = serializers.ChoiceField(choices=RefundSource.choices, required=False)
    resolution_description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    customer_satisfied = serializers.BooleanField(required=False, allow_null=True)
    follow_up_required = serializers.BooleanField(required=False)
    follow_up_date = serializers.DateTimeField(required=False, help_text="ISO 8601, in the future.")
    assigned_to = _employee_id(required=False, allow_null=True, help_text="An active agent or manager.")
    updated_by = _employee_id(help_text="The authenticated employee (service accounts may name another).")

    def validate(self, attrs):
        if not any(k != "updated_by" for k in attrs):
            raise serializers.ValidationError("At least one field to update is required")
        return attrs


class ApprovalDecisionInput(StrictInputSerializer):
    note = serializers.CharField(max_length=2000, error_messages=NOTES_ERRORS)
    decided_by = _employee_id(required=False)


class ApprovalCancelInput(StrictInputSerializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    decided_by = _employee_id(required=False)


class MetricsQuery(serializers.Serializer):
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


# ----------------------------------------------------------------- output


class IssueNoteOutput(serializers.Serializer):
    author = serializers.CharField(source="author.username", allow_null=True, default=None)
    author_via = serializers.CharField(
        source="via",
        allow_null=True,
        default=None,
        help_text="The service account that wrote it on the author's behalf; null when the author wrote it.",
    )
    kind = serializers.ChoiceField(choices=NoteKind.choices)
    channel = serializers.ChoiceField(choices=NoteChannel.choices)
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


class PendingApprovalOutput(serializers.Serializer):
    approval_request_id = serializers.CharField(source="approval_id")
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    requested_status = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    created_at = serializers.DateTimeField()


class IssueOutput(serializers.Serializer):
    issue_id = serializers.CharField()
    order_id = serializers.CharField(source="order.order_id")
    issue_type = serializers.ChoiceField(choices=IssueType.choices)
    title = serializers.CharField()
    description = serializers.CharField()
    status = serializers.ChoiceField(choices=IssueStatus.choices)
    priority = serializers.ChoiceField(choices=IssuePriority.choices)
    order_item_ids = serializers.SerializerMethodField()
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True, default=None)
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    resolution_description = serializers.CharField()
    customer_satisfied = serializers.BooleanField(allow_null=True)
    follow_up_required = serializers.BooleanField()
    follow_up_date = serializers.DateTimeField(allow_null=True)
    reopen_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)

    def get_order_item_ids(self, obj) -> list[str]:
        return [str(item.order_item_id) for item in obj.affected_items.all()]


REFUND_STATUS_HELP = (
    "`pending` (recorded; processing runs in the background after the change commits), `processing` (sent to "
    "the payment processor), `completed` (paid; store credit completes at once) or `failed` (the processor "
    "refused it: nothing was paid, the amount is refundable again, and `failure_reason` says why)."
)


class RefundStatusField(serializers.ChoiceField):
    """A ledger refund's status (pending → processing → completed | failed)."""

    def __init__(self, **kwargs):
        super().__init__(choices=RefundStatus.choices, **kwargs)


class RefundStatusFieldSchema(OpenApiSerializerFieldExtension):
    """OpenAPI: every refund status is the one ``RefundStatusEnum`` component (nullable: or ``NullEnum``), named
    here: left to drf-spectacular's enum naming, a second choice set under the name ``status`` is a collision."""

    target_class = RefundStatusField

    def map_serializer_field(self, auto_schema, direction):
        enum = ResolvedComponent(
            name="RefundStatusEnum",
            type=ResolvedComponent.SCHEMA,
            object="RefundStatusEnum",
            schema={
                "enum": list(RefundStatus.values),
                "type": "string",
                "description": "\n".join(f"* `{value}` - {label}" for value, label in RefundStatus.choices),
            },
        )
        auto_schema.registry.register_on_missing(enum)
        if not self.target.allow_null:
            return enum.ref
        null = ResolvedComponent(
            name="NullEnum", type=ResolvedComponent.SCHEMA, object="NullEnum", schema={"enum": [None]}
        )
        auto_schema.registry.register_on_missing(null)
        return {"oneOf": [enum.ref, null.ref]}


class IssueRefundOutput(serializers.Serializer):
    """One ledger refund recorded for the issue, as it stands now."""

    refund_id = serializers.CharField()
    amount = MoneyField()
    currency = serializers.CharField()
    source = serializers.ChoiceField(choices=RefundSource.choices)
    status = RefundStatusField(help_text=REFUND_STATUS_HELP)
    failure_reason = serializers.CharField(help_text="Why the processor refused it; empty unless `failed`.")
    requested_by = serializers.CharField(
        source="requested_by.username",
        allow_null=True,
        default=None,
        help_text="The employee who asked for it (null: an API key of no employee).",
    )
    approved_by = serializers.CharField(
        source="approved_by.username",
        allow_null=True,
        default=None,
        help_text="The manager who approved it over the requester's refund limit; null: within their own limit.",
    )
    created_at = serializers.DateTimeField()
    processed_at = serializers.DateTimeField(
        allow_null=True, help_text="When it completed or failed; null while pending or processing."
    )


class IssueDetailOutput(IssueOutput):
    notes = IssueNoteOutput(many=True)
    pending_approvals = PendingApprovalOutput(many=True)
    refunds = IssueRefundOutput(
        many=True,
        source="refund_rows",  # issues.selectors.with_refunds: one query
        help_text="The issue's refunds, oldest first, each with its status now (a failed one with its reason).",
    )


class IssueUpdateOutput(serializers.Serializer):
    """The issue update contract's response, exactly. The PATCH answers add the refund the update initiated (refund_id,
    refund_status) and, on the 202 approval path, the request's id and status."""

    success = serializers.BooleanField()
    message = serializers.CharField()
    issue_id = serializers.CharField()
    updated_fields = serializers.ListField(child=serializers.CharField())
    previous_status = serializers.CharField()
    new_status = serializers.CharField()
    refund_processed = serializers.BooleanField(
        help_text="True when this update initiated a refund: it is recorded on the ledger and processing has been "
        "queued, not that the money was paid (see refund_status, the issue's `refunds` and the refund.completed / "
        "refund.failed webhooks). False when none was asked for or one over the refund limit waits for approval."
    )
    timestamp = serializers.DateTimeField()


class IssueUpdateResultOutput(IssueUpdateOutput):
    """The PATCH answer: the issue update contract's response plus the refund this update initiated."""

    refund_id = serializers.CharField(
        allow_null=True,
        help_text="The ledger refund this update initiated; null when it initiated none (none asked for, or one "
        "over the refund limit, waiting for a manager's approval).",
    )
    refund_status = RefundStatusField(
        allow_null=True,
        help_text="The refund's status when this answer was written, normally `pending`: its outcome comes later "
        "(the issue's `refunds` on GET, or the refund.completed / refund.failed webhooks). Null with refund_id.",
    )


class IssueUpdateResultSchema(OpenApiSerializerExtension):
    """OpenAPI: the PATCH answer is the issue update contract's ``IssueUpdateOutput`` (kept as its own component,
    exactly the contract's fields) extended with the refund fields: ``allOf`` of the two."""

    target_class = IssueUpdateResultOutput

    def map_serializer(self, auto_schema, direction):
        seed = auto_schema.resolve_serializer(IssueUpdateOutput, direction)
        whole = auto_schema._map_basic_serializer(self.target, direction)
        added = [name for name in whole["properties"] if name not in IssueUpdateOutput().fields]
        extension = {
            "type": "object",
            "properties": {name: whole["properties"][name] for name in added},
            "required": [name for name in whole.get("required", []) if name in added],
        }
        return {"allOf": [seed.ref, extension]}


class IssueApprovalRequestedOutput(IssueUpdateResultOutput):
    approval_request_id = serializers.CharField(help_text="The request waiting (the first, when there are two).")
    approval_kind = serializers.ChoiceField(
        choices=ApprovalKind.choices, help_text="`escalation` / `reopen`: a status move; `refund`: over the limit."
    )
    requested_status = serializers.CharField(
        allow_null=True, help_text="The status asked for; null when only a refund over the limit waits."
    )
    requested_refund_amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        coerce_to_string=False,
        help_text="The refund waiting for approval (nothing was refunded); null when none.",
    )
    approval_request_ids = serializers.ListField(
        child=serializers.CharField(), help_text="Every request this update opened (a status move and a refund)."
    )


VIA_HELP = "The service account the change came through on changed_by's behalf; null for their own credential."


class TimelineEntry(serializers.Serializer):
    status = serializers.CharField()
    from_status = serializers.CharField(allow_null=True)
    changed_by = serializers.CharField(allow_null=True)
    changed_via = serializers.CharField(allow_null=True, help_text=VIA_HELP)
    changed_at = serializers.DateTimeField()
    reason = serializers.CharField()


class FieldChange(serializers.Serializer):
    field = serializers.CharField()
    old_value = serializers.JSONField(allow_null=True)
    new_value = serializers.JSONField(allow_null=True)
    changed_by = serializers.CharField(allow_null=True)
    changed_via = serializers.CharField(allow_null=True, help_text=VIA_HELP)
    changed_at = serializers.DateTimeField()


class IssueHistoryOutput(serializers.Serializer):
    issue_id = serializers.CharField()
    timeline = TimelineEntry(many=True)
    changes = FieldChange(many=True)
    notes = IssueNoteOutput(many=True)
    refunds = IssueRefundOutput(
        many=True,
        help_text="The issue's refunds, oldest first, each with its status now (a failed one with its reason).",
    )


class ApprovalOutput(serializers.Serializer):
    approval_request_id = serializers.CharField(source="approval_id")
    kind = serializers.ChoiceField(choices=ApprovalKind.choices)
    state = serializers.ChoiceField(choices=ApprovalState.choices)
    issue_id = serializers.CharField(source="issue.issue_id", allow_null=True, default=None)
    target_type = serializers.CharField()
    target_id = serializers.CharField()
    requested_status = serializers.CharField()
    order_id = serializers.CharField(source="payload.order_id", allow_null=True, default=None)
    amount = serializers.DecimalField(
        source="payload.amount",
        max_digits=12,
        decimal_places=2,
        coerce_to_string=False,
        allow_null=True,
        default=None,
        help_text="The money it decides (a refund over the limit, an appeasement over policy); null otherwise.",
    )
    currency = serializers.CharField(source="payload.currency", allow_null=True, default=None)
    reason = serializers.CharField()
    requested_by = serializers.CharField(source="requested_by.username")
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decision_note = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class _TimeToResolution(serializers.Serializer):
    resolved_count = serializers.IntegerField()
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)


class _Satisfaction(serializers.Serializer):
    answered = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class _RefundsBySource(serializers.Serializer):
    source = serializers.CharField()
    currency = serializers.CharField()
    count = serializers.IntegerField()
    amount = MoneyField()


class _SkuCount(serializers.Serializer):
    sku = serializers.CharField()
    issues = serializers.IntegerField()


class _CategoryCount(serializers.Serializer):
    category = serializers.CharField()
    issues = serializers.IntegerField()


class _CustomerCount(serializers.Serializer):
    customer_email = serializers.CharField()
    issues = serializers.IntegerField()


class _Recurring(serializers.Serializer):
    skus = _SkuCount(many=True)
    categories = _CategoryCount(many=True)
    customers = _CustomerCount(many=True)


class _Sla(serializers.Serializer):
    breached = serializers.IntegerField(help_text="Issues whose first response or resolution was or is late")
    first_response_breached = serializers.IntegerField()
    resolution_breached = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True, help_text="breached / total; null when there are no issues")


class MetricsOutput(serializers.Serializer):
    created_after = serializers.DateTimeField(allow_null=True)
    created_before = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_priority = serializers.DictField(child=serializers.IntegerField())
    by_type = serializers.DictField(child=serializers.IntegerField())
    time_to_resolution = _TimeToResolution()
    satisfaction = _Satisfaction()
    sla = _Sla(help_text="SLA breach rate (targets per priority in settings.SLA_TARGETS)")
    refunds_by_source = _RefundsBySource(many=True)
    recurring = _Recurring()
