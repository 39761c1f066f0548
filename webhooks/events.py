"""What each event type carries: the REST representation of its object, read as the API reads it.

``describe(obj)`` returns ``(data, account, order_id)``. Data is rendered inside the transaction that
made the change, so it is the object as that change left it (a snapshot, not what it is at delivery).
Representations that do not name their order (items, refunds) gain ``order_id``.
"""

from __future__ import annotations

from typing import Any

Described = tuple[dict[str, Any], str, str]


def _order(obj) -> Described:
    from orders.api.serializers import OrderDetailOutput
    from orders.selectors import order_detail_queryset

    order = order_detail_queryset().get(pk=obj.pk)
    return dict(OrderDetailOutput(order).data), order.account, order.order_id


def _item(obj) -> Described:
    from orders.api.serializers import OrderItemOutput
    from orders.models import OrderItem

    item = OrderItem.objects.select_related("category", "order").get(pk=obj.pk)
    data = {"order_id": item.order.order_id, **OrderItemOutput(item).data}
    return data, item.order.account, item.order.order_id


def _refund(obj) -> Described:
    from orders.api.serializers import RefundOutput

    order = obj.order
    return {"order_id": order.order_id, **RefundOutput(obj).data}, order.account, order.order_id


def _issue(obj) -> Described:
    from issues.api.serializers import IssueOutput
    from issues.selectors import issue_list

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
    if approval.target_type == "appeasement":
        from appeasements.models import Appeasement

        found = Appeasement.objects.select_related("order").filter(appeasement_id=approval.target_id).first()
        return found.order if found else None
    if approval.target_type == "order":  # a refund request about an order (the admin's order refund form)
        from orders.models import Order

        return Order.objects.filter(order_id=approval.target_id).first()
    if approval.target_type == "return":  # a return's refund held over the employee's limit
        from returns.models import Return

        found = Return.objects.select_related("order").filter(return_id=approval.target_id).first()
        return found.order if found else None
    return None


def _appeasement(obj) -> Described:
    from appeasements.api.serializers import AppeasementOutput
    from appeasements.selectors import appeasement_queryset

    appeasement = appeasement_queryset().get(pk=obj.pk)
    order = appeasement.order
    return dict(AppeasementOutput(appeasement).data), order.account, order.order_id


def _return(obj) -> Described:
    from returns.api.serializers import ReturnOutput
    from returns.selectors import return_detail

    ret = return_detail(obj.pk)
    return dict(ReturnOutput(ret).data), ret.order.account, ret.order.order_id


def describe(obj) -> Described:
    """The (data, account, order id) of a model instance, by its model."""
    label = obj._meta.label
    builder = {
        "orders.Order": _order,
        "orders.OrderItem": _item,
        "orders.Refund": _refund,
        "issues.OrderIssue": _issue,
        "issues.ApprovalRequest": _approval,
        "appeasements.Appeasement": _appeasement,
        "returns.Return": _return,
    }.get(label)
    if builder is None:
        raise TypeError(f"No webhook representation for {label}")
    return builder(obj)
