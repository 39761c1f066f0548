from django.apps import AppConfig

# OpenAPI component names for the issue enums. Several apps have fields called ``status`` and ``kind``
# with different choices; without these drf-spectacular names them by hash (Status114Enum).
ENUM_NAME_OVERRIDES = {
    "IssueStatusEnum": "issues.models.IssueStatus",
    "IssuePriorityEnum": "issues.models.IssuePriority",
    "IssueTypeEnum": "issues.models.IssueType",
    "NoteKindEnum": "issues.models.NoteKind",
    "NoteChannelEnum": "issues.models.NoteChannel",
    "ApprovalKindEnum": "issues.models.ApprovalKind",
    "ApprovalStateEnum": "issues.models.ApprovalState",
    # ``refund_source`` here and ``source`` in orders are one choice set: one component name.
    "RefundSourceEnum": "orders.models.RefundSource",
}


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = "Issues"

    def ready(self) -> None:
        from django.conf import settings

        overrides = settings.SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {})
        for name, path in ENUM_NAME_OVERRIDES.items():
            overrides.setdefault(name, path)

        from issues import approvals
        from issues.models import ApprovalKind
        from issues.refund_requests import refund_request_decided

        approvals.register(ApprovalKind.REFUND, refund_request_decided)  # about an issue or an order

        from issues.services import refund_failed_notify
        from orders.signals import refund_failed

        refund_failed.connect(refund_failed_notify, dispatch_uid="issues.refund_failed_notify")

        from issues.services import subscription_disabled_notify
        from webhooks.signals import subscription_disabled

        subscription_disabled.connect(subscription_disabled_notify, dispatch_uid="issues.subscription_disabled")

        from issues.events import DESCRIBERS
        from webhooks import events

        events.register(DESCRIBERS)
