from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = "Returns"

    def ready(self) -> None:
        from returns.fabric import errors, schema  # noqa: F401 - the OpenAPI auth extension registers itself

        errors.register()

        from issues import approvals
        from issues.models import ApprovalKind
        from returns.services import RETURN_TARGET, return_refund_decided

        # a return's refund held over the employee's limit is paid when a manager approves it
        approvals.register(ApprovalKind.REFUND, return_refund_decided, target_type=RETURN_TARGET)

        from returns.events import DESCRIBERS, knows_account, order_of_return
        from webhooks import events

        approvals.register_order_finder(RETURN_TARGET, order_of_return)
        events.register(DESCRIBERS)
        events.register_account_source(knows_account)
