"""The refund ledger's rules, in one place: what an order has been paid and refunded, what is still refundable (of
the order, of each payment), whether an amount may be refunded, and the order row lock every money write holds.

Every service, admin page, form and serializer that needs one of these calls this module; no other module
subtracts refunds from payments. Writing a refund (the row, its history, its event, its processing) is
``orders.services.refund_record``, which checks with :func:`refund_checked` under :func:`order_locked`; an
employee's refund limit is ``orders.refund_policy``.

- **Paid**: the sum of the order's captured payments. **Refunded**: the sum of its refunds that did not fail
  (pending, processing and completed all hold money: a failed one frees its amount again).
- **Refundable**: paid minus refunded, never below zero; a payment's own share: what it captured minus the
  non-failed refunds made to it (refunds made to no payment count against the order only).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum

from orders.errors import RefundProcessingError
from orders.models import ZERO, Order, Payment, PaymentStatus, Refund, RefundSource, RefundStatus

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Money:
    """An order's money as the ledger sees it (two places)."""

    paid: Decimal
    refunded: Decimal

    @property
    def refundable(self) -> Decimal:
        return refundable_of(self.paid, self.refunded)


def refundable_of(paid: Decimal, refunded: Decimal) -> Decimal:
    """What is still refundable of ``paid`` once ``refunded`` went back (an order annotated with
    ``orders.selectors.orders_with_totals`` passes its ``paid_total`` and ``refunded_total``)."""
    return max(Decimal(paid) - Decimal(refunded), ZERO).quantize(CENT)


def order_money(order: Order) -> Money:
    """Paid and refunded for one order, from the database (not from annotations), in one query.

    Under the order's row lock this must stay a statement of its own after the lock: a ``SELECT ... FOR UPDATE``
    that waited for the lock still reads its subqueries from the snapshot taken before it waited, without the
    refund that the lock's holder just committed.

    Written as SQL (the same sums as ``orders.selectors.paid_total_expression`` and ``refunded_total_expression``,
    which tests/orders/test_ledger.py compares it with): every refund runs it, and the ORM took 1.1 ms to build
    the two correlated subqueries of a 0.15 ms query."""
    with connection.cursor() as cursor:
        cursor.execute(_MONEY_SQL, [order.pk, PaymentStatus.CAPTURED, order.pk, RefundStatus.FAILED])
        paid, refunded = cursor.fetchone()
    return Money(paid=_money(paid), refunded=_money(refunded))


def _money(value) -> Decimal:
    """A sum read by SQL as money: PostgreSQL gives a Decimal; SQLite, which keeps decimals as REAL, may give a
    float, read by its shortest decimal spelling (as Django's converter does), never by its binary expansion."""
    return Decimal(str(value) if isinstance(value, float) else value).quantize(CENT)


_MONEY_SQL = (
    "SELECT"  # noqa: S608 - table names from the models, values as parameters
    f" (SELECT COALESCE(SUM(amount), 0) FROM {Payment._meta.db_table} WHERE order_id = %s AND status = %s),"
    f" (SELECT COALESCE(SUM(amount), 0) FROM {Refund._meta.db_table} WHERE order_id = %s AND status <> %s)"
)


def money_of(payments, refunds) -> Money:
    """Paid and refunded for one order from its payments and refunds already read (all of them): the same sums as
    :func:`order_money`, for a page that shows those rows anyway (the issue workspace). Never for a write: a write
    reads :func:`order_money` under the order's lock."""
    paid = sum((p.amount for p in payments if p.status == PaymentStatus.CAPTURED), ZERO)
    refunded = sum((r.amount for r in refunds if r.status != RefundStatus.FAILED), ZERO)
    return Money(paid=_money(paid), refunded=_money(refunded))


def refundable(order: Order) -> Decimal:
    """What is still refundable of ``order`` (read from the database; lock it first to rely on it)."""
    return order_money(order).refundable


def payments_left(order: Order) -> list[tuple[Payment, Decimal]]:
    """The order's captured payments that can still be refunded to, oldest first, each with what it has left: what
    it captured minus the non-failed refunds made to it. (The order as a whole may have less left: refunds made to
    no payment count against the order only; :func:`refundable` says what.)"""
    payments = (
        Payment.objects.filter(order=order, status=PaymentStatus.CAPTURED)
        .annotate(refunded=Sum("refunds__amount", filter=~Q(refunds__status=RefundStatus.FAILED), default=ZERO))
        .order_by("id")
    )
    return [(payment, payment.amount - payment.refunded) for payment in payments if payment.amount > payment.refunded]


def order_locked(order: Order | int) -> Order:
    """The order's row, locked until the caller's transaction ends: every money write takes this lock before
    anything else, so what it reads of the ledger stays true until it commits."""
    pk = order.pk if isinstance(order, Order) else order
    return Order.objects.select_for_update().get(pk=pk)


def refund_checked(*, order: Order, amount, source: str, currency: str | None = None, payment=None) -> Decimal:
    """The refund's amount once every ledger rule holds on ``order`` (locked by the caller), else
    ``REFUND_PROCESSING_ERROR`` with ``refundable_amount``: positive, two places, a known source, the order's
    currency and payment, and within what is still refundable."""
    left = refundable(order)
    try:
        amount = Decimal(amount)
    except Exception as exc:  # noqa: BLE001 - any unparsable amount is a refusal
        raise RefundProcessingError("Refund amount is not a number", refundable_amount=left) from exc
    if not amount.is_finite() or amount <= ZERO:
        raise RefundProcessingError("Refund amount must be positive", refundable_amount=left)
    if amount != amount.quantize(CENT):
        raise RefundProcessingError("Refund amount has more than two decimal places", refundable_amount=left)
    if source not in RefundSource.values:
        raise RefundProcessingError(f"Unknown refund source '{source}'", refundable_amount=left)
    if currency and currency != order.currency:
        raise RefundProcessingError(
            f"Refund currency {currency} differs from the order currency {order.currency}", refundable_amount=left
        )
    if payment is not None and payment.order_id != order.pk:
        raise RefundProcessingError("The payment does not belong to this order", refundable_amount=left)
    if amount > left:
        raise RefundProcessingError(
            f"Refund of {amount} exceeds the refundable amount {left} on order {order.order_id}",
            refundable_amount=left,
            requested_amount=amount,
            currency=order.currency,
        )
    return amount
