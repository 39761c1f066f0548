"""Refunds a dead worker left in 'processing' are sent again; amounts are positive in the database."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.models import Payment, Refund, RefundStatus
from orders.services import refunds_retry_stuck
from tests.factories import order_with_items

pytestmark = pytest.mark.django_db


def stuck_refund(order, minutes_ago: int) -> Refund:
    refund = Refund(order=order, amount=Decimal("5.00"), currency="USD", source="merchant")
    refund.save()
    refund.start_processing()
    refund.save()
    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes_ago))
    return refund


def test_stuck_refund_is_sent_again_and_completes():
    order = order_with_items(items=1, unit_price=Decimal("20.00"))
    old = stuck_refund(order, minutes_ago=30)
    fresh = stuck_refund(order, minutes_ago=1)
    assert refunds_retry_stuck(older_than=timedelta(minutes=15)) == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == RefundStatus.COMPLETED
    assert old.external_reference == f"sim_{old.refund_id}"  # the processor's idempotency key is the refund id
    assert fresh.status == RefundStatus.PROCESSING
    assert old.history.latest().history_change_reason == "Refund completed by the processor"


def test_stuck_refund_that_fails_frees_its_amount(settings):
    settings.SIMULATED_REFUND_FAILURE_RATE = 1.0
    order = order_with_items(items=1, unit_price=Decimal("20.00"))
    refund = stuck_refund(order, minutes_ago=60)
    call_command("retry_stuck_refunds", "--older-than-minutes", "15")
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED


@pytest.mark.parametrize("model", [Refund, Payment])
def test_database_refuses_non_positive_amounts(model):
    order = order_with_items(items=1)
    fields = {"order": order, "amount": Decimal("0.00"), "currency": "USD"}
    fields.update({"source": "merchant"} if model is Refund else {"payment_group_id": "pgX", "payment_method": "Visa"})
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**fields)
