"""The refund limit under concurrency: one agent's refunds sent at once on one order, each within the limit but
together over it, never all get paid without a manager's approval.

PostgreSQL only (real row locks); skipped with the reason on SQLite. The limit is compared with what the employee
already refunded on the order after the order row is locked: read before the lock, both requests would see 0.00
used and both would be paid.
"""

from decimal import Decimal

import pytest

from appeasements import services as appeasement_services
from issues import services as issue_services
from issues.models import ApprovalRequest
from orders.models import Refund, RefundLimit
from tests.concurrency import outcomes, run_concurrently
from tests.factories import employee, issue_factory, order_with_items

D = Decimal


def world():
    """An agent with a 10.00 refund limit and a completed order of 100.00. An earlier transactional test may have
    flushed the tables: the groups' permissions, the reason and the refund type are made again, as the data
    migrations make them."""
    from django.apps import apps

    from appeasements.models import AppeasementReason, RefundType
    from config.permissions import sync_groups

    sync_groups(apps)
    AppeasementReason.objects.get_or_create(code="incorrectItem", defaults={"description": "Incorrect item"})
    RefundType.objects.get_or_create(
        code="externalRefund", defaults={"description": "Refund made outside the platform", "ledger_source": "platform"}
    )
    agent = employee("emp_cs_001", "agent")
    RefundLimit.objects.create(employee=agent, limit=D("10.00"))
    order = order_with_items(items=2, unit_price=D("50.00"), status="completed")  # 100.00 paid
    return agent, order


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_issue_refunds_at_once_within_the_limit_each_but_not_together():
    agent, order = world()
    issues = [issue_factory(order, actor=agent, status="in_progress") for _ in range(2)]

    def refund(issue):
        return issue_services.issue_update(
            order_id=order.order_id,
            issue_id=issue.issue_id,
            actor=agent,
            changes={"refund_amount": D("6.00"), "refund_source": "store_credit"},
        )

    results = run_concurrently(*[lambda i=i: refund(i) for i in issues])
    done, _, crashes = outcomes(results)
    assert crashes == []
    assert sorted(r.refund_processed for r in done) == [False, True]
    assert list(Refund.objects.filter(order=order).values_list("amount", flat=True)) == [D("6.00")]
    assert ApprovalRequest.objects.filter(kind="refund", state="pending").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_many_refunds_and_appeasements_at_once_never_pass_the_limit_unapproved():
    agent, order = world()
    issues = [issue_factory(order, actor=agent, status="in_progress") for _ in range(4)]
    drafts = [
        appeasement_services.appeasement_create(
            caller=agent,
            data=appeasement_services.AppeasementInput(
                order_id=order.order_id,
                reason="incorrectItem",
                refunds=[appeasement_services.RefundInput(refund_type="externalRefund", amount=D("3.00"))],
            ),
        )
        for _ in range(4)
    ]

    def refund(issue):
        return issue_services.issue_update(
            order_id=order.order_id,
            issue_id=issue.issue_id,
            actor=agent,
            changes={"refund_amount": D("3.00"), "refund_source": "store_credit"},
        )

    def submit(draft):
        return appeasement_services.appeasement_submit(appeasement_id=draft.appeasement_id, caller=agent)

    calls = [lambda i=i: refund(i) for i in issues] + [lambda d=d: submit(d) for d in drafts]
    _, _, crashes = outcomes(run_concurrently(*calls))
    assert crashes == []
    paid = sum(Refund.objects.filter(order=order, approved_by__isnull=True).values_list("amount", flat=True))
    assert paid == D("9.00")  # three of eight 3.00 refunds fit in 10.00; the five others wait for a manager
    waiting = ApprovalRequest.objects.filter(state="pending", kind__in=["refund", "appeasement"]).count()
    assert waiting == 5
