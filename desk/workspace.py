"""What the issue workspace shows of the issue's order (docs/admin.md, "The issue page"): the customer, the items
with SKU, quantity and price, the payments, every refund of the order with its status, the returns, and the other
issues of this order and of this customer, and the order's money from its payments and refunds. Five queries,
whatever the order's size (tests/admin/test_workspace.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from issues.models import OrderIssue
from orders import ledger
from orders.models import Order, OrderItem, Payment, Refund
from returns.models import Return

OTHER_ISSUES = 10  # the newest; the order's and the customer's issue lists link to the rest


@dataclass
class OrderPanel:
    order: Order
    items: list[OrderItem] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)
    other_issues: list[OrderIssue] = field(default_factory=list)

    @property
    def money(self) -> ledger.Money:
        """The order's paid, refunded and refundable, summed from the payments and refunds shown (every one of the
        order's): the ledger's sums without reading them again."""
        return ledger.money_of(self.payments, self.refunds)


def order_panel(order: Order, issue: OrderIssue | None = None) -> OrderPanel:
    others = OrderIssue.objects.filter(order=order)
    if order.customer_email:
        # the customer's orders (this one among them) by their e-mail's index, then their issues by the order's:
        # "of this order, or of an order with this e-mail", an OR across the join, was planned as a walk of every
        # issue newest first (0.9-1.3 s at 1M issues)
        customers = Order.objects.filter(customer_email=order.customer_email).values("pk")
        others = OrderIssue.objects.filter(order__in=customers)
    if issue is not None:
        others = others.exclude(pk=issue.pk)
    return OrderPanel(
        order=order,
        items=list(OrderItem.objects.filter(order=order).order_by("line_number")),
        payments=list(Payment.objects.filter(order=order).order_by("id")),
        refunds=list(Refund.objects.filter(order=order).order_by("-created_at", "-id")),
        returns=list(Return.objects.filter(order=order).select_related("reason").order_by("-created_at", "-id")),
        other_issues=list(others.select_related("order").order_by("-created_at", "-id")[:OTHER_ISSUES]),
    )
