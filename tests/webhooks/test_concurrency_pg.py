"""Events of one order under concurrency (PostgreSQL: real locks; skipped with the reason on SQLite).

Concurrent writes to one order (issues reported, refunds recorded) all commit, without deadlocks, and the
outbox numbers the order's events in commit order, so a subscriber receives them in that order.
"""

from decimal import Decimal

import pytest

from issues.services import issue_create
from orders.models import RefundSource
from orders.services import refund_record
from tests.concurrency import outcomes, run_concurrently
from tests.factories import employee, order_with_items
from tests.webhooks.conftest import drain
from webhooks.models import OutboxEvent

THREADS = 12


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writes_to_one_order_all_emit_in_commit_order(receiver, subscribe):
    from django.apps import apps

    from config.permissions import sync_groups

    sync_groups(apps)
    agent = employee("emp_cs_001", "agent")
    employee("emp_mgr_001", "manager")
    subscribe()
    order = order_with_items(items=2, unit_price=Decimal("50.00"))

    def work(n):
        if n % 2:
            return issue_create(
                order_id=order.order_id, actor=agent, data={"issue_type": "wrong_item", "title": f"#{n}"}
            )
        return refund_record(order=order, actor=agent, amount=Decimal("1.00"), source=RefundSource.STORE_CREDIT)

    _, _, crashes = outcomes(run_concurrently(*[lambda n=n: work(n) for n in range(THREADS)]))

    assert crashes == []
    # one event per write, and each store-credit refund (processed after its commit) is also refund.completed
    assert OutboxEvent.objects.filter(order_key=order.order_id).count() == THREADS + THREADS // 2
    drain()
    expected = list(
        OutboxEvent.objects.filter(order_key=order.order_id).order_by("id").values_list("event_id", flat=True)
    )
    assert receiver.ids == expected
