"""Reads for orders that need joins or aggregates."""

from __future__ import annotations

from django.db.models import DecimalField, OuterRef, Prefetch, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from orders.models import (
    ZERO,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundCause,
    RefundStatus,
)

_MONEY = DecimalField(max_digits=14, decimal_places=2)


def _sum_subquery(qs: QuerySet, field: str) -> Coalesce:
    total = qs.order_by().values("order_id").annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def paid_total_expression() -> Coalesce:
    return _sum_subquery(Payment.objects.filter(order_id=OuterRef("pk"), status=PaymentStatus.CAPTURED), "amount")


def refunded_total_expression() -> Coalesce:
    return _sum_subquery(Refund.objects.filter(order_id=OuterRef("pk")).exclude(status=RefundStatus.FAILED), "amount")


def orders_with_totals(qs: QuerySet[Order] | None = None) -> QuerySet[Order]:
    """Orders annotated with ``paid_total`` and ``refunded_total`` (non-failed refunds)."""
    qs = qs if qs is not None else Order.objects.all()
    return qs.annotate(paid_total=paid_total_expression(), refunded_total=refunded_total_expression())


def order_list(*, with_lines: bool = True) -> QuerySet[Order]:
    qs = orders_with_totals()
    if with_lines:
        qs = qs.prefetch_related(
            Prefetch("items", queryset=OrderItem.objects.select_related("category").order_by("line_number")),
            "payments",
            "shipments",
        )
    return qs


def order_detail_queryset() -> QuerySet[Order]:
    return order_list().prefetch_related(Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id")))


def cancellation_refunds(order: Order) -> list[Refund]:
    """The refunds cancelling ``order`` made (none unless it is cancelled), oldest first."""
    if order.status != OrderStatus.CANCELED:
        return []
    refunds = order.refunds.filter(cause_type=RefundCause.CANCELLATION).select_related("payment")  # its id is shown
    return list(refunds.order_by("created_at", "pk"))
