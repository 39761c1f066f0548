"""The ledger under concurrency: many refund requests at one order never refund more than was paid.

PostgreSQL only (real row locks); skipped with the reason on SQLite. They also fail if the order's sums are
read in the statement that locks it (``select_for_update().annotate(...)``): a statement that waited for the
lock reads its subqueries from the snapshot taken before the wait (orders.ledger.order_money).
"""

from decimal import Decimal

import pytest

from orders.errors import RefundProcessingError
from orders.models import Order, Refund, RefundSource, RefundStatus
from orders.services import refund_record
from tests.concurrency import outcomes, run_concurrently
from tests.factories import employee, order_with_items

THREADS = 25


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_refunds_never_exceed_the_paid_amount():
    # given: 20.00 captured; 25 requests of 3.00 (75.00) arrive together
    agent = employee("emp_cs_001", "agent")
    order = order_with_items(items=2)
    assert order.payments.get().amount == Decimal("20.00")

    def request_refund():
        mine = Order.objects.get(pk=order.pk)
        return refund_record(order=mine, actor=agent, amount=Decimal("3.00"), source=RefundSource.MERCHANT)

    # when
    results = run_concurrently(*[request_refund] * THREADS)
    successes, refusals, crashes = outcomes(results, RefundProcessingError)

    # then
    assert crashes == []
    assert len(successes) + len(refusals) == THREADS
    assert len(successes) == 6  # 6 x 3.00 = 18.00 <= 20.00 < 7 x 3.00
    assert all(err.code == "REFUND_PROCESSING_ERROR" for err in refusals)
    assert all(err.extra["refundable_amount"] == Decimal("2.00") for err in refusals)
    total = sum(Refund.objects.filter(order=order).exclude(status=RefundStatus.FAILED).values_list("amount", flat=True))
    assert total == Decimal("18.00")
    assert Refund.objects.filter(order=order).count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_mixed_amounts_stay_within_the_paid_amount():
    agent = employee("emp_cs_001", "agent")
    order = order_with_items(items=3, unit_price=Decimal("7.33"))  # 21.99 captured
    amounts = [Decimal(a) for a in ("0.01", "1.99", "5.00", "7.33", "10.00", "21.99")] * 4

    def request_refund(amount):
        return refund_record(order=order, actor=agent, amount=amount, source=RefundSource.STORE_CREDIT)

    results = run_concurrently(*[lambda a=a: request_refund(a) for a in amounts])
    _, refusals, crashes = outcomes(results, RefundProcessingError)

    assert crashes == []
    assert refusals
    total = sum(Refund.objects.filter(order=order).values_list("amount", flat=True), Decimal("0"))
    assert Decimal("0") < total <= Decimal("21.99")
