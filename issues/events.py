"""How issues and approval requests appear in webhook events (registered in ``IssuesConfig.ready``)."""

from __future__ import annotations

from django.db.models import prefetch_related_objects

from issues import approvals
from webhooks.events import Described


def _issue(obj) -> Described:
    """The issue as the API shows it. The instance the write just saved is used when it carries what
    ``issues.selectors.issue_list`` joins (its order and people): only its affected items are read; otherwise it is
    read again the way the API reads it."""
    from issues.api.serializers import IssueOutput
    from issues.selectors import affected_items, issue_list

    loaded = obj._state.fields_cache
    if all(name in loaded for name in ("order", "assigned_to", "created_by")):
        prefetch_related_objects([obj], affected_items())
        issue = obj
    else:
        issue = issue_list().get(pk=obj.pk)
    return dict(IssueOutput(issue).data), issue.order.account, issue.order.order_id


def _approval(obj) -> Described:
    from issues.api.serializers import ApprovalOutput
    from issues.selectors import approval_list

    approval = approval_list().select_related("issue__order").get(pk=obj.pk)
    order = _approval_order(approval)
    return dict(ApprovalOutput(approval).data), order.account if order else "", order.order_id if order else ""


def _approval_order(approval):
    if approval.issue_id is not None:
        return approval.issue.order
    if approval.target_type == "order":  # a refund request about an order (the admin's order refund form)
        from orders.models import Order

        return Order.objects.filter(order_id=approval.target_id).first()
    # an appeasement's, a return's refund held over the limit: the app that opens them says which order
    order_of = approvals.order_finder(approval.target_type)
    return order_of(approval.target_id) if order_of is not None else None


DESCRIBERS = {"issues.OrderIssue": _issue, "issues.ApprovalRequest": _approval}
