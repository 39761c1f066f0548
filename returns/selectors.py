"""Reads for returns: an order's returns with their lines and ledger refunds in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Prefetch, QuerySet

from orders.models import Order, Refund, RefundCause
from returns.models import Return, ReturnLine


def returns_for_order(order: Order) -> list[Return]:
    """The order's returns, newest first, each with ``refund_list`` (its ledger refunds). Three queries."""
    returns = list(_returns_queryset().filter(order=order))
    _attach_refunds(order, returns)
    return returns


def return_detail(pk: int) -> Return:
    ret = _returns_queryset().get(pk=pk)
    _attach_refunds(ret.order, [ret])
    return ret


def _returns_queryset() -> QuerySet[Return]:
    return Return.objects.select_related("order", "reason").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("order_item").order_by("order_item__line_number"))
    )


def _attach_refunds(order: Order, returns: list[Return]) -> None:
    by_return: dict[str, list[Refund]] = defaultdict(list)
    refunds = (
        Refund.objects.filter(order=order, cause_type=RefundCause.RETURN, cause_id__in=[r.return_id for r in returns])
        .select_related("payment")
        .order_by("created_at", "id")
    )
    for refund in refunds if returns else []:
        by_return[refund.cause_id].append(refund)
    for ret in returns:
        ret.refund_list = by_return.get(ret.return_id, [])
