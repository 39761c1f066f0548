"""The refund ledger: orders.services.refund_record / refund_process."""

from decimal import Decimal

import pytest
from django.db import transaction

from config.api.exception_handler import api_exception_handler
from config.api.renderers import MoneyJSONRenderer
from orders.errors import RefundProcessingError
from orders.ledger import Money, money_of, order_money
from orders.models import Payment, PaymentStatus, Refund, RefundCause, RefundSource, RefundStatus
from orders.selectors import orders_with_totals
from orders.services import refund_process, refund_record
from tests.factories import PaymentFactory, order_with_items

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def paid(db):
    """A pending order with 20.00 captured."""
    return order_with_items(items=2)


def record(order, actor, amount, source=RefundSource.MERCHANT, **kw):
    return refund_record(order=order, actor=actor, amount=amount, source=source, **kw)


# ----------------------------------------------------------------- refusals


@pytest.mark.parametrize("amount", [D("0"), D("0.00"), D("-1.00"), D("0.001"), D("NaN"), D("Infinity"), "abc", None])
def test_amount_must_be_positive_money(paid, agent, amount):
    with pytest.raises(RefundProcessingError) as exc:
        record(paid, agent, amount)
    assert exc.value.code == "REFUND_PROCESSING_ERROR"
    assert exc.value.extra["refundable_amount"] == D("20.00")
    assert not Refund.objects.exists()


def test_cannot_refund_more_than_captured(paid, agent):
    with pytest.raises(RefundProcessingError) as exc:
        record(paid, agent, D("20.01"))
    assert exc.value.extra["refundable_amount"] == D("20.00")
    assert not Refund.objects.exists()


def test_exactly_the_captured_amount_is_allowed(paid, agent):
    refund = record(paid, agent, D("20.00"))
    assert refund.status == RefundStatus.PENDING
    assert refund.amount == D("20.00")
    assert refund.currency == "USD"


def test_refunds_accumulate_up_to_the_paid_amount(paid, agent):
    record(paid, agent, D("12.50"))
    record(paid, agent, D("7.00"))
    with pytest.raises(RefundProcessingError) as exc:
        record(paid, agent, D("0.51"))
    assert exc.value.extra["refundable_amount"] == D("0.50")
    record(paid, agent, D("0.50"))
    assert order_money(paid) == Money(paid=D("20.00"), refunded=D("20.00"))
    with pytest.raises(RefundProcessingError) as exc:
        record(paid, agent, D("0.01"))
    assert exc.value.extra["refundable_amount"] == D("0.00")


def test_only_captured_payments_count(agent):
    order = order_with_items(items=1)  # 10.00 captured
    PaymentFactory(order=order, amount=D("5.00"), status=PaymentStatus.AUTHORIZED)
    PaymentFactory(order=order, amount=D("5.00"), status=PaymentStatus.FAILED)
    with pytest.raises(RefundProcessingError) as exc:
        record(order, agent, D("10.01"))
    assert exc.value.extra["refundable_amount"] == D("10.00")


def test_order_without_payments_refunds_nothing(agent):
    order = order_with_items(items=1)
    order.payments.all().delete()
    with pytest.raises(RefundProcessingError) as exc:
        record(order, agent, D("1.00"))
    assert exc.value.extra["refundable_amount"] == D("0.00")


def test_other_refusals(paid, agent):
    other_payment = order_with_items(items=1).payments.get()
    for kwargs in (
        {"source": "cash"},
        {"currency": "EUR"},
        {"payment": other_payment},
    ):
        with pytest.raises(RefundProcessingError):
            record(paid, agent, D("1.00"), **kwargs)
    assert not Refund.objects.exists()


def test_refusal_renders_as_backoffice_body_with_refundable_amount(paid, agent):
    record(paid, agent, D("15.00"))
    with pytest.raises(RefundProcessingError) as exc:
        record(paid, agent, D("6.00"))
    response = api_exception_handler(exc.value, {"request": None})
    assert response.status_code == 422
    assert response.data["success"] is False
    assert response.data["error_code"] == "REFUND_PROCESSING_ERROR"
    raw = MoneyJSONRenderer().render(response.data)
    assert b'"refundable_amount":5.00' in raw
    assert b'"requested_amount":6.00' in raw


# ----------------------------------------------------------------- processing


def test_store_credit_completes_at_once_after_commit(paid, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refund = record(paid, agent, D("5.00"), source=RefundSource.STORE_CREDIT)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.COMPLETED
    assert refund.external_reference
    assert refund.processed_at is not None


@pytest.mark.parametrize("source", [RefundSource.MERCHANT, RefundSource.PLATFORM, RefundSource.INSURANCE])
def test_other_sources_go_through_the_processor(paid, agent, source, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refund = record(paid, agent, D("5.00"), source=source)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.COMPLETED
    assert refund.external_reference == f"sim_{refund.refund_id}"
    statuses = [h.status for h in refund.history.order_by("history_date", "history_id")]
    assert statuses == ["pending", "processing", "completed"]


def test_processing_happens_only_after_commit(paid, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        refund = record(paid, agent, D("5.00"))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING  # nothing ran inside the transaction
    assert len(callbacks) == 2  # processing, and the webhook outbox's dispatch
    for callback in callbacks:
        callback()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.COMPLETED


def test_rolled_back_refund_is_never_processed(paid, agent, django_capture_on_commit_callbacks):
    class Boom(Exception):
        pass

    def record_then_fail():
        with transaction.atomic():
            record(paid, agent, D("5.00"))
            raise Boom

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        record_then_fail()
    assert callbacks == []
    assert not Refund.objects.exists()


def test_failed_refund_frees_its_amount(paid, agent, settings, django_capture_on_commit_callbacks):
    settings.SIMULATED_REFUND_FAILURE_RATE = 1
    with django_capture_on_commit_callbacks(execute=True):
        failed = record(paid, agent, D("20.00"))
    failed.refresh_from_db()
    assert failed.status == RefundStatus.FAILED
    assert failed.failure_reason
    assert order_money(paid) == Money(paid=D("20.00"), refunded=D("0.00"))
    annotated = orders_with_totals().get(pk=paid.pk)
    assert annotated.refunded_total == D("0.00")

    settings.SIMULATED_REFUND_FAILURE_RATE = 0
    with django_capture_on_commit_callbacks(execute=True):
        ok = record(paid, agent, D("20.00"))
    ok.refresh_from_db()
    assert ok.status == RefundStatus.COMPLETED
    assert set(paid.refunds.values_list("status", flat=True)) == {"failed", "completed"}


def test_pending_and_processing_refunds_hold_their_amount(paid, agent):
    record(paid, agent, D("20.00"))  # pending: on-commit never ran
    with pytest.raises(RefundProcessingError):
        record(paid, agent, D("0.01"))


def test_failed_refund_visible_on_the_order(api, paid, agent, settings, django_capture_on_commit_callbacks):
    settings.SIMULATED_REFUND_FAILURE_RATE = 1
    with django_capture_on_commit_callbacks(execute=True):
        record(paid, agent, D("4.00"))
    body = api(agent).get(f"/api/v1/orders/{paid.order_id}").json()
    assert [(r["status"], r["amount"]) for r in body["refunds"]] == [("failed", 4.0)]
    assert body["refunds"][0]["failure_reason"]
    assert body["refunded_total"] == 0
    assert body["refundable_amount"] == 20.0


def test_processor_crash_is_a_failed_refund(paid, agent, settings, django_capture_on_commit_callbacks, monkeypatch):
    def crash(self, refund):
        raise ConnectionError("provider down")

    monkeypatch.setattr("orders.refund_processors.SimulatedRefundProcessor.refund", crash)
    with django_capture_on_commit_callbacks(execute=True):
        refund = record(paid, agent, D("4.00"))
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert "provider down" in refund.failure_reason


def test_pluggable_processor(paid, agent, settings, django_capture_on_commit_callbacks):
    settings.REFUND_PROCESSOR = "orders.refund_processors.AlwaysFailingRefundProcessor"
    with django_capture_on_commit_callbacks(execute=True):
        refund = record(paid, agent, D("4.00"), source=RefundSource.PLATFORM)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED


def test_processing_twice_changes_nothing(paid, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refund = record(paid, agent, D("4.00"))
    rows = refund.history.count()
    assert refund_process(refund_pk=refund.pk) == RefundStatus.COMPLETED
    assert refund.history.count() == rows
    assert refund_process(refund_pk=999999) == "missing"


# ----------------------------------------------------------------- history and cause


def test_history_rows_on_the_refund(paid, agent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refund = record(
            paid, agent, D("3.00"), source=RefundSource.STORE_CREDIT, cause_type=RefundCause.ISSUE, cause_id="issue_1"
        )
    rows = list(refund.history.order_by("history_date", "history_id"))
    assert [r.status for r in rows] == ["pending", "completed"]
    assert rows[0].history_user == agent
    assert rows[0].history_change_reason
    assert rows[1].history_change_reason
    refund.refresh_from_db()
    assert refund.requested_by == agent
    assert (refund.cause_type, refund.cause_id) == ("issue", "issue_1")


def test_refund_locks_and_rereads_a_stale_order(paid, agent):
    """The caller's order object may be stale: the ledger is read from the database."""
    stale = paid
    record(paid, agent, D("15.00"))
    with pytest.raises(RefundProcessingError):
        record(stale, agent, D("6.00"))


def test_order_money_reads_the_same_sums_as_the_totals_annotation(agent):
    """order_money is SQL of its own (the hot path of every refund); the annotations are what lists show."""
    order = order_with_items(items=1)  # 10.00 captured
    PaymentFactory(order=order, amount=D("7.35"))
    PaymentFactory(order=order, amount=D("99.99"), status=PaymentStatus.AUTHORIZED)  # not captured: not paid
    other = order_with_items(items=1)
    record(other, agent, D("3.00"))  # another order's refund counts nowhere here
    for amount in (D("0.10"), D("0.20"), D("4.05")):
        record(order, agent, amount)
    Refund.objects.filter(order=order, amount=D("0.20")).update(status=RefundStatus.FAILED)  # frees its amount
    Refund.objects.filter(order=order, amount=D("4.05")).update(status=RefundStatus.COMPLETED)
    annotated = orders_with_totals().get(pk=order.pk)
    assert order_money(order) == Money(paid=D("17.35"), refunded=D("4.15"))
    assert (annotated.paid_total, annotated.refunded_total) == (D("17.35"), D("4.15"))
    # a page that shows every payment and refund of the order (the issue workspace) sums the rows it read
    rows = money_of(Payment.objects.filter(order=order), Refund.objects.filter(order=order))
    assert rows == order_money(order)
    assert money_of([], []) == Money(paid=D("0.00"), refunded=D("0.00"))


def test_a_sum_sqlite_reads_as_a_float_is_money_by_its_decimal_spelling():
    from orders.ledger import _money

    assert _money(0.1 + 0.2) == D("0.30")
    assert _money(310.07) == D("310.07")
    assert _money(D("4.15")) == D("4.15")
    assert _money(0) == D("0.00")
    # 2.675 as a float is 2.67499999...: its binary expansion would round down, its spelling rounds half to even
    assert _money(2.675) == D("2.68")
