"""The refund policy: how much an employee may refund on one order on their own authority.

Every money path an employee starts (an issue refund through the API or the admin, an order refund in the admin,
an appeasement, a return's refund) counts against one limit: the employee's personal ``RefundLimit``, else their
role's, else none. It is cumulative per employee and order: what they already refunded on the order on their own
authority (non-failed ledger refunds they requested that no manager approved) plus the new amount must stay within
it, so splitting a refund into several does not get around it. Over it, the refund is neither refused nor paid:
the caller turns it into an approval request, and the refund is recorded when another manager approves it
(``approved_by``). What is still refundable (docs/api/backoffice.md) bounds every refund, within a limit or approved.

Read the sums with the order row locked (``limit_breach`` is called under ``select_for_update``): two refunds sent
at once by one employee on one order are then counted one after the other, and never both paid over the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from config.people import employee_role
from config.permissions import AGENT, MANAGER, SERVICE
from orders.ledger import CENT
from orders.models import ZERO, Order, Refund, RefundCause, RefundLimit, RefundStatus


@dataclass(frozen=True)
class LimitBreach:
    """Why a refund needs a manager's approval: the employee's limit, what they used of it, what they ask."""

    employee: str
    limit: Decimal
    used: Decimal
    amount: Decimal
    currency: str

    @property
    def message(self) -> str:
        """In words, every amount with its currency (it reaches e-mails and the approval's reason)."""
        currency = self.currency
        used = f" with {self.used} {currency} already refunded by {self.employee} on this order" if self.used else ""
        return f"{self.amount} {currency}{used} is over {self.employee}'s refund limit of {self.limit} {currency}"

    def payload(self) -> dict[str, str]:
        return {"limit": str(self.limit), "used": str(self.used)}


def refund_limit(employee) -> Decimal | None:
    """The employee's personal limit, else their role's; None when neither is set (bounded by the refundable only).
    The role comes from the employee's groups (``config.people.employee_role``: read once per request and kept on
    the user); the limits are one plain query. One query with the role worked out in SQL (five ``EXISTS``) cost
    5 ms to compile on every refund, ten times its run time."""
    if employee is None or not getattr(employee, "is_authenticated", False):
        return None
    mine = Q(employee=employee)
    role = employee_role(employee)
    if role in (MANAGER, AGENT, SERVICE):
        mine |= Q(role=role, employee__isnull=True)
    limits = {
        ("employee" if employee_id else "role"): limit
        for employee_id, limit in RefundLimit.objects.filter(mine).order_by().values_list("employee_id", "limit")
    }
    return limits.get("employee", limits.get("role"))


def refunded_on_own_authority(order: Order, employee) -> Decimal:
    """What the employee refunded on the order within their own limit (not failed, not approved by a manager, not
    given back by cancelling the order: a cancellation returns what was paid and is no goodwill)."""
    total = (
        Refund.objects.filter(order=order, requested_by=employee, approved_by__isnull=True)
        .exclude(status=RefundStatus.FAILED)
        .exclude(cause_type=RefundCause.CANCELLATION)
        .aggregate(total=Sum("amount"))["total"]
    )
    return (total or ZERO).quantize(CENT)


def limit_breach(*, order: Order, employee, amount: Decimal) -> LimitBreach | None:
    """None when ``amount`` is within the employee's limit on this order (or they have none, or are no employee:
    a fabric API key). Call with the order row locked."""
    limit = refund_limit(employee)
    if limit is None:
        return None
    used = refunded_on_own_authority(order, employee)
    if used + Decimal(amount) <= limit:
        return None
    return LimitBreach(
        employee=employee.get_username(), limit=limit, used=used, amount=Decimal(amount), currency=order.currency
    )


def limit_left(order: Order, employee, limit: Decimal | None) -> Decimal | None:
    """What the employee may still refund on this order on their own authority, of ``limit`` (None: no limit)."""
    if limit is None:
        return None
    return max(limit - refunded_on_own_authority(order, employee), ZERO)
