"""Refunds an employee asks for: within their refund limit the ledger records them now; over it, a manager's
approval request (kind ``refund``) holds them, and approving records them (``orders.refund_policy``).

The issue PATCH and the admin's refund forms (issue and order) call :func:`refund_or_request`; returns ask through
:func:`refund_request_open` and are paid by ``returns.services.return_refund_approved``. Nothing is refunded while
a request waits; approving it checks again what is still refundable (422 when the order no longer allows it: the
manager rejects it instead).
"""

from __future__ import annotations

from decimal import Decimal

from config.errors import Duplicate
from issues.models import ApprovalKind, ApprovalRequest, ApprovalState, NotificationKind, OrderIssue
from issues.services.common import ISSUE_TARGET
from issues.services.requests import approval_request_open
from orders.models import Order, Payment, Refund
from orders.refund_policy import LimitBreach
from orders.services import refund_record, refund_within_limit

ORDER_TARGET = "order"


def refund_or_request(
    *,
    order: Order,
    actor,
    amount: Decimal,
    source: str,
    cause_type: str,
    cause_id: str,
    reason: str,
    issue: OrderIssue | None = None,
    payment: Payment | None = None,
) -> Refund | ApprovalRequest:
    """The refund, recorded, when it is within ``actor``'s limit; else a pending request for it (what can never be
    paid is refused first, 422). The order row is locked before the limit is compared and until the caller's
    transaction ends, so that what the employee already refunded on it is final when counted."""
    outcome = refund_within_limit(
        order=order,
        actor=actor,
        amount=amount,
        source=source,
        cause_type=cause_type,
        cause_id=cause_id,
        reason=reason,
        payment=payment,
    )
    if isinstance(outcome, Refund):
        return outcome
    breach = outcome
    target_type, target_id = (ISSUE_TARGET, issue.issue_id) if issue is not None else (ORDER_TARGET, order.order_id)
    return refund_request_open(
        order=order,
        actor=actor,
        breach=breach,
        target_type=target_type,
        target_id=target_id,
        issue=issue,
        payload={
            "source": source,
            "cause_type": cause_type,
            "cause_id": cause_id,
            "reason": reason[:255],
            "payment_group_id": payment.payment_group_id if payment is not None else "",
        },
    )


def refund_request_open(
    *,
    order: Order,
    actor,
    breach: LimitBreach,
    target_type: str,
    target_id: str,
    issue: OrderIssue | None = None,
    payload: dict | None = None,
) -> ApprovalRequest:
    """A pending refund request (409 ``DUPLICATE`` when one for the same issue, order or return already waits)."""
    pending = ApprovalRequest.objects.filter(
        target_type=target_type, target_id=target_id, kind=ApprovalKind.REFUND, state=ApprovalState.PENDING
    ).first()
    if pending is not None:
        raise Duplicate(
            f"A refund request for this {target_type} is already waiting for a manager",
            approval_request_id=pending.approval_id,
        )
    return approval_request_open(
        kind=ApprovalKind.REFUND,
        actor=actor,
        target_type=target_type,
        target_id=target_id,
        issue=issue,
        payload={
            "order_id": order.order_id,
            "amount": str(breach.amount),
            "currency": order.currency,
            **breach.payload(),
            **(payload or {}),
        },
        reason=f"Over the refund limit: {breach.message}",
        notify_kind=NotificationKind.REFUND_REQUESTED,
        message=f"asks to refund {breach.amount} {order.currency} on order {order.order_id}: {breach.message}",
    )


def refund_request_decided(*, approval: ApprovalRequest, actor, approve: bool, note: str) -> None:
    """The approval queue's handler (inside the decision's transaction): approving records the refund for the
    requester, approved by ``actor``; rejecting refunds nothing."""
    if not approve:
        return
    payload = approval.payload
    order = Order.objects.select_for_update().get(order_id=payload["order_id"])
    payment = None
    if payload.get("payment_group_id"):
        payment = Payment.objects.filter(order=order, payment_group_id=payload["payment_group_id"]).first()
    refund = refund_record(
        order=order,
        actor=actor,
        amount=Decimal(payload["amount"]),
        source=payload["source"],
        cause_type=payload["cause_type"],
        cause_id=payload["cause_id"],
        reason=payload.get("reason", ""),
        payment=payment,
        requested_by=approval.requested_by,
        approved_by=actor,
    )
    approval.payload = {**payload, "refund_id": refund.refund_id}
