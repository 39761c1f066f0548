"""The ledger limit shared by appeasements and issue refunds, under concurrency.

PostgreSQL only (real row locks); skipped with the reason on SQLite.
"""

from decimal import Decimal

import pytest

from appeasements import services
from appeasements.errors import InvalidInput, WrongState
from appeasements.models import Appeasement, AppeasementState
from orders.errors import RefundProcessingError
from orders.models import Order, Refund, RefundCause, RefundSource, RefundStatus
from orders.services import refund_record
from tests.concurrency import outcomes, run_concurrently
from tests.factories import employee, order_with_items

EACH = 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_appeasements_and_issue_refunds_never_pass_the_paid_amount(settings):
    # given: 100.00 paid; 10 appeasement submits and 10 issue refunds of 15.00 each (300.00) arrive together
    settings.APPEASEMENT_POLICY_SHARE = 1
    agent = employee("emp_cs_001", "agent")
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    drafts = [
        services.appeasement_create(
            caller=agent,
            data=services.AppeasementInput(
                order_id=order.order_id,
                reason="incorrectItem",
                refunds=[services.RefundInput(refund_type="storeCredit", amount=Decimal("15.00"))],
            ),
        )
        for _ in range(EACH)
    ]

    def submit(appeasement_id):
        return services.appeasement_submit(appeasement_id=appeasement_id, caller=agent)

    def issue_refund():
        return refund_record(
            order=Order.objects.get(pk=order.pk),
            actor=agent,
            amount=Decimal("15.00"),
            source=RefundSource.MERCHANT,
            cause_type=RefundCause.ISSUE,
            cause_id="issue_concurrent",
        )

    # when
    results = run_concurrently(*[lambda d=d: submit(d.appeasement_id) for d in drafts], *[issue_refund] * EACH)
    submitted_ok, submits_refused, submits_crashed = outcomes(results[:EACH], InvalidInput)
    refunded_ok, refunds_refused, refunds_crashed = outcomes(results[EACH:], RefundProcessingError)
    successes, refusals = submitted_ok + refunded_ok, submits_refused + refunds_refused
    crashes = submits_crashed + refunds_crashed

    # then: 6 x 15.00 = 90.00 <= 100.00 < 7 x 15.00, whoever won
    assert crashes == []
    assert len(successes) + len(refusals) == 2 * EACH
    assert len(successes) == 6
    refunds = Refund.objects.filter(order=order).exclude(status=RefundStatus.FAILED)
    assert sum(r.amount for r in refunds) == Decimal("90.00")
    submitted = Appeasement.objects.filter(order=order, state=AppeasementState.SUBMITTED)
    assert submitted.count() == refunds.filter(cause_type=RefundCause.APPEASEMENT).count()
    assert (
        Appeasement.objects.filter(order=order, state=AppeasementState.INCOMPLETE).count() == EACH - submitted.count()
    )
    # a refused submit left its appeasement untouched and without ledger rows
    for appeasement in Appeasement.objects.filter(order=order, state=AppeasementState.INCOMPLETE):
        assert not Refund.objects.filter(cause_id=appeasement.appeasement_id).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_submits_of_one_appeasement_pay_once(settings):
    settings.APPEASEMENT_POLICY_SHARE = 1
    agent = employee("emp_cs_001", "agent")
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    draft = services.appeasement_create(
        caller=agent,
        data=services.AppeasementInput(
            order_id=order.order_id,
            reason="incorrectItem",
            refunds=[services.RefundInput(refund_type="storeCredit", amount=Decimal("10.00"))],
        ),
    )

    def submit():
        return services.appeasement_submit(appeasement_id=draft.appeasement_id, caller=agent)

    paid, refused, crashes = outcomes(run_concurrently(*[submit] * 8), WrongState)
    assert crashes == []
    assert len(paid) == 1
    assert len(refused) == 7
    assert Refund.objects.filter(cause_id=draft.appeasement_id).count() == 1
