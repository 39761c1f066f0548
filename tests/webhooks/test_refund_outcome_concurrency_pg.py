"""Refund outcomes under concurrency (PostgreSQL: real locks; skipped with the reason on SQLite).

A refund's outcome is recorded under its order's lock and then its own (the order's lock first, as every money
write and ``event_emit`` take it): workers processing refunds of an order while others write to it never
deadlock, a refund handled twice at once (a task delivered twice, the stuck-refund command racing the worker)
has one outcome, one event and one notification per person, and the order's events still arrive in commit order.
"""

from decimal import Decimal

import pytest

from issues.models import Notification, NotificationKind
from issues.services import issue_create
from orders.models import Refund, RefundCause, RefundSource, RefundStatus
from orders.services import refund_process, refund_record
from tests.concurrency import outcomes, run_concurrently
from tests.factories import employee, issue_factory, order_with_items
from tests.webhooks.conftest import drain
from webhooks.models import OutboxEvent

REFUNDS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_outcomes_recorded_while_the_order_is_written_keep_commit_order_and_happen_once(receiver, subscribe, settings):
    from django.apps import apps

    from config.permissions import sync_groups

    sync_groups(apps)
    settings.REFUND_PROCESSOR = "orders.refund_processors.AlwaysFailingRefundProcessor"
    agent = employee("emp_cs_001", "agent")
    assignee = employee("emp_cs_002", "agent")
    employee("emp_mgr_001", "manager")
    subscribe()
    order = order_with_items(items=2, unit_price=Decimal("50.00"))
    issue = issue_factory(order, actor=agent, assigned_to=assignee)
    # pending refunds whose processing task is delivered twice: half fail at the processor, half are store credit
    pending = [
        Refund.objects.create(
            order=order,
            amount=Decimal("1.00"),
            currency="USD",
            source=RefundSource.MERCHANT if n % 2 else RefundSource.STORE_CREDIT,
            cause_type=RefundCause.ISSUE,
            cause_id=issue.issue_id,
            requested_by=agent,
        )
        for n in range(REFUNDS)
    ]

    def write(n):
        if n % 2:
            return issue_create(
                order_id=order.order_id, actor=agent, data={"issue_type": "wrong_item", "title": f"#{n}"}
            )
        # recorded, committed, then processed in this thread (the immediate task backend runs it on commit)
        return refund_record(order=order, actor=agent, amount=Decimal("1.00"), source=RefundSource.STORE_CREDIT)

    calls = [lambda pk=r.pk: refund_process(refund_pk=pk) for r in pending] * 2
    calls += [lambda n=n: write(n) for n in range(REFUNDS)]
    _, _, crashes = outcomes(run_concurrently(*calls))

    assert crashes == []
    statuses = dict(Refund.objects.filter(pk__in=[r.pk for r in pending]).values_list("pk", "status"))
    assert sorted(statuses.values()) == sorted([RefundStatus.COMPLETED, RefundStatus.FAILED] * (REFUNDS // 2))
    events = list(OutboxEvent.objects.filter(order_key=order.order_id).order_by("id").values_list("type", flat=True))
    # one outcome per refund: the pending ones and the REFUNDS // 2 recorded meanwhile (created, then completed)
    assert events.count("refund.failed") == REFUNDS // 2
    assert events.count("refund.completed") == REFUNDS // 2 + REFUNDS // 2
    assert events.count("refund.created") == REFUNDS // 2
    assert events.count("issue.created") == REFUNDS // 2
    told = Notification.objects.filter(kind=NotificationKind.REFUND_FAILED)
    assert sorted(told.values_list("recipient__username", flat=True)) == sorted(
        ["emp_cs_001", "emp_cs_002"] * (REFUNDS // 2)
    )
    drain()
    expected = list(
        OutboxEvent.objects.filter(order_key=order.order_id).order_by("id").values_list("event_id", flat=True)
    )
    assert receiver.ids == expected
