"""Cancelling a paid order refunds it (issue 21): every cancel route (back-office PATCH, fabric cancel, admin button)
gives back what is still refundable through the ledger, one refund per captured payment, cause ``cancellation``,
in the transaction of the status change; the answer and the order show it; no refund limit applies."""

from decimal import Decimal

import pytest

from orders.models import (
    Order,
    OrderStatus,
    PaymentStatus,
    Refund,
    RefundCause,
    RefundLimit,
    RefundStatus,
    ShipmentStatus,
)
from orders.services import refund_record
from tests.factories import PaymentFactory, ShipmentFactory, order_with_items
from tests.orders.test_admin import transition_post

pytestmark = pytest.mark.django_db

D = Decimal


def two_payments(**kw) -> Order:
    """A pending order of 50.00, paid 30.00 + 20.00 by two captured payments (and one only authorized)."""
    order = order_with_items(items=1, unit_price=D("50.00"), **kw)
    first = order.payments.get()
    first.amount, first.payment_group_id = D("30.00"), "pg-a"
    first.save()
    PaymentFactory(order=order, amount=D("20.00"), payment_group_id="pg-b")
    PaymentFactory(order=order, amount=D("99.00"), payment_group_id="pg-auth", status=PaymentStatus.AUTHORIZED)
    return order


def cancel_refunds(order: Order) -> list[Refund]:
    return list(order.refunds.filter(cause_type=RefundCause.CANCELLATION).order_by("payment__payment_group_id"))


def test_back_office_cancel_refunds_each_captured_payment(api, manager):
    order = two_payments()

    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "canceled"}, format="json")

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["new_status"] == "canceled"
    assert body["revision"] == 2  # the status change and its refunds are one change of the order
    refunds = cancel_refunds(order)
    assert [(r.payment.payment_group_id, r.amount, r.source) for r in refunds] == [
        ("pg-a", D("30.00"), "merchant"),
        ("pg-b", D("20.00"), "merchant"),
    ]
    assert sorted((x["refund_id"], x["amount"], x["cause_type"], x["cause_id"]) for x in body["refunds"]) == sorted(
        (r.refund_id, float(r.amount), "cancellation", order.order_id) for r in refunds
    )
    assert {x["status"] for x in body["refunds"]} <= {"pending", "processing", "completed"}
    for refund in refunds:
        assert refund.requested_by == manager
        assert refund.approved_by is None
        assert refund.history.get().history_user == manager
    # The order shows it: nothing left to refund, the refunds listed with their cause.
    shown = api(manager).get(f"/api/v1/orders/{order.order_id}").json()
    assert shown["refundable_amount"] == 0
    assert {x["refund_id"] for x in shown["refunds"]} == {r.refund_id for r in refunds}


def test_cancel_refunds_only_what_is_left_per_payment(api, manager):
    order = two_payments()
    pg_a = order.payments.get(payment_group_id="pg-a")
    refund_record(order=order, actor=manager, amount=D("12.50"), source="merchant", payment=pg_a)
    refund_record(order=order, actor=manager, amount=D("5.00"), source="store_credit")  # to no payment
    failed = refund_record(order=order, actor=manager, amount=D("7.00"), source="merchant", payment=pg_a)
    Refund.objects.filter(pk=failed.pk).update(status=RefundStatus.FAILED)  # failed money was never given back

    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "canceled"}, format="json")

    assert r.status_code == 200, r.content
    # 50.00 paid - 17.50 given back = 32.50 left: pg-a has 17.50 of its own left, pg-b the remaining 15.00.
    assert [(r.payment.payment_group_id, r.amount) for r in cancel_refunds(order)] == [
        ("pg-a", D("17.50")),
        ("pg-b", D("15.00")),
    ]
    assert [x["amount"] for x in r.json()["refunds"]] == [17.5, 15.0]


def test_cancelling_an_unpaid_order_refunds_nothing(api, manager):
    order = order_with_items(items=1)
    order.payments.update(status=PaymentStatus.AUTHORIZED)

    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "canceled"}, format="json")

    assert r.status_code == 200, r.content
    assert r.json()["refunds"] == []
    assert not order.refunds.exists()


def test_other_status_moves_answer_no_refunds(api, manager):
    order = order_with_items(items=1)
    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "accepted"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["refunds"] == []
    assert not order.refunds.exists()


def test_no_refund_limit_holds_a_cancellation_back(api, manager):
    """A cancellation returns what was paid for an order that will never ship: no approval request, and it does not
    use up the canceller's own refund limit."""
    RefundLimit.objects.create(employee=manager, limit=D("1.00"))
    order = two_payments()

    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "canceled"}, format="json")

    assert r.status_code == 200, r.content
    assert sum(r.amount for r in cancel_refunds(order)) == D("50.00")
    from orders.refund_policy import refunded_on_own_authority

    assert refunded_on_own_authority(order, manager) == D("0.00")


def test_a_refund_that_cannot_be_written_leaves_the_order_uncancelled(api, manager, monkeypatch):
    """Same transaction: when the ledger refuses, the status change is undone with it."""
    order = two_payments()
    history = order.history.count()

    def refuse(**kwargs):
        from orders.errors import RefundProcessingError

        raise RefundProcessingError("The processor is unavailable", refundable_amount=D("50.00"))

    monkeypatch.setattr("orders.services.refund_checked", refuse)
    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "canceled"}, format="json")

    assert r.status_code == 422, r.content
    assert r.json()["error_code"] == "REFUND_PROCESSING_ERROR"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert order.revision == 1
    assert order.history.count() == history
    assert not order.refunds.exists()


def test_admin_cancel_refunds_and_says_so(client, manager):
    client.force_login(manager)
    order = two_payments()

    r = client.post(f"/admin/orders/order/{order.pk}/change/", transition_post(order, "cancel"), follow=True)

    assert r.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    refunds = cancel_refunds(order)
    assert [r.amount for r in refunds] == [D("30.00"), D("20.00")]
    assert all(r.requested_by == manager for r in refunds)
    page = r.content.decode()
    assert "Cancelling gave back 50.00 USD" in page
    assert all(r.refund_id in page for r in refunds)


def test_a_shipped_order_cannot_be_cancelled_so_nothing_is_refunded(api, manager, client):
    """Cancelling refunds everything: once something shipped, it is a return, on every route."""
    order = two_payments(status=OrderStatus.IN_PROGRESS)
    ShipmentFactory(order=order, status=ShipmentStatus.IN_TRANSIT)

    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "canceled"}, format="json")

    assert r.status_code == 409, r.content
    body = r.json()
    assert body["error_code"] == "INVALID_STATUS_TRANSITION"
    assert body["message"] == "A shipped order cannot be cancelled: record a return once it is delivered"
    assert "canceled" not in body["allowed_transitions"]
    order.refresh_from_db()
    assert (order.status, order.revision) == (OrderStatus.IN_PROGRESS, 1)
    assert not order.refunds.exists()
    # the admin offers no Cancel button, and a forged one changes nothing
    client.force_login(manager)
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'value="complete"' in page
    assert 'value="cancel"' not in page
    client.post(f"/admin/orders/order/{order.pk}/change/", transition_post(order, "cancel"))
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    assert not order.refunds.exists()
