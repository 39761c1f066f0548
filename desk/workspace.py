"""What the issue workspace shows of the issue's order (docs/admin.md, "The issue page"): the customer, the items
with SKU, quantity and price, the payments, every refund of the order with its status, the returns, and the other
issues of this order and of this customer, and the order's money from its payments and refunds. Five queries,
whatever the order's size (tests/admin/test_workspace.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from config.prebuilt import Prebuilt
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


def _others(order_pk: int, email: str | None, issue_pk: int | None):
    others = OrderIssue.objects.filter(order_id=order_pk)
    if email:
        # the customer's orders (this one among them) by their e-mail's index, then their issues by the order's:
        # "of this order, or of an order with this e-mail", an OR across the join, was planned as a walk of every
        # issue newest first (0.9-1.3 s at 1M issues)
        customers = Order.objects.filter(customer_email=email).values("pk")
        others = OrderIssue.objects.filter(order__in=customers)
    if issue_pk is not None:
        others = others.exclude(pk=issue_pk)
    return others.select_related("order").order_by("-created_at", "-id")[:OTHER_ISSUES]


# The panel's reads, their SQL built once (config.prebuilt; tests/admin/test_prebuilt.py compares them with these
# querysets): building it took the ORM about as long as the rest of the panel.
_ITEMS = Prebuilt(
    "panel-items", lambda order_pk: OrderItem.objects.filter(order_id=order_pk).order_by("line_number"), (-9001,)
)
_PAYMENTS = Prebuilt(
    "panel-payments", lambda order_pk: Payment.objects.filter(order_id=order_pk).order_by("id"), (-9001,)
)
_REFUNDS = Prebuilt(
    "panel-refunds",
    lambda order_pk: Refund.objects.filter(order_id=order_pk).order_by("-created_at", "-id"),
    (-9001,),
)
_RETURNS = Prebuilt(
    "panel-returns",
    lambda order_pk: Return.objects.filter(order_id=order_pk).select_related("reason").order_by("-created_at", "-id"),
    (-9001,),
)
_CUSTOMER_ISSUES = Prebuilt(
    "panel-customer-issues",
    lambda email, issue_pk: _others(0, email, issue_pk),
    ("prebuilt-sample@example.invalid", -9002),
)
_ORDER_ISSUES = Prebuilt(
    "panel-order-issues", lambda order_pk, issue_pk: _others(order_pk, "", issue_pk), (-9001, -9002)
)


def order_panel(order: Order, issue: OrderIssue | None = None) -> OrderPanel:
    if issue is None:
        others = list(_others(order.pk, order.customer_email, None))
    elif order.customer_email:
        others = _CUSTOMER_ISSUES(order.customer_email, issue.pk)
    else:
        others = _ORDER_ISSUES(order.pk, issue.pk)
    return OrderPanel(
        order=order,
        items=_ITEMS(order.pk),
        payments=_PAYMENTS(order.pk),
        refunds=_REFUNDS(order.pk),
        returns=_RETURNS(order.pk),
        other_issues=others,
    )
