"""PATCH /api-order/orders/cancel of a paid order refunds it (issue 21; the rule and the other routes:
``tests/orders/test_cancel_refunds.py``). The fabric order has no refund field, so the answer lists the refunds
beside the order."""

import pytest

from orders.models import PaymentStatus
from tests.factories import order_with_items
from tests.orders.test_cancel_refunds import cancel_refunds, two_payments
from tests.returns.conftest import ACCOUNT

pytestmark = pytest.mark.django_db


def test_fabric_cancel_refunds_and_answers_them(fabric):
    order = two_payments(account=ACCOUNT)

    r = fabric().patch(
        "/api-order/orders/cancel", {"cancellationCode": "1001", "orderId": order.order_id}, format="json"
    )

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["order"]["status"] == "ORDER_CANCELLED"
    assert body["order"]["revision"] == 2
    refunds = cancel_refunds(order)
    assert [(x["paymentId"], x["amount"], x["currency"]) for x in body["refunds"]] == [
        ("pg-a", 30.0, "USD"),
        ("pg-b", 20.0, "USD"),
    ]
    assert [x["refundId"] for x in body["refunds"]] == [r.refund_id for r in refunds]
    for refund in refunds:
        assert refund.requested_by is None
        assert "API key 'storefront'" in refund.reason  # who asked, when no employee did
        assert "key" in refund.history.get().history_change_reason.lower()


def test_fabric_cancel_of_an_unpaid_order_answers_no_refunds(fabric):
    order = order_with_items(items=1, account=ACCOUNT)
    order.payments.update(status=PaymentStatus.AUTHORIZED)
    r = fabric().patch(
        "/api-order/orders/cancel", {"cancellationCode": "1001", "orderId": order.order_id}, format="json"
    )
    assert r.status_code == 200, r.content
    assert r.json()["refunds"] == []


def test_the_refunds_in_the_answer_are_read_with_their_payments(fabric, django_assert_num_queries):
    """The cancel answer names each refund's payment: one query for them all, however many payments."""
    from orders.selectors import cancellation_refunds
    from tests.factories import PaymentFactory

    order = order_with_items(items=1, account=ACCOUNT)
    for _ in range(4):
        PaymentFactory(order=order, amount=1)
    r = fabric().patch(
        "/api-order/orders/cancel", {"cancellationCode": "1001", "orderId": order.order_id}, format="json"
    )
    assert r.status_code == 200, r.content
    order.refresh_from_db()
    with django_assert_num_queries(1):
        ids = [refund.payment.payment_group_id for refund in cancellation_refunds(order)]
    assert len(ids) == 5
    assert [x["paymentId"] for x in r.json()["refunds"]] == ids
