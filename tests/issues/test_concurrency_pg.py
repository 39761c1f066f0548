"""Two concurrent updates of one issue never lose a write (PostgreSQL row locks, real threads)."""

import pytest

from issues.models import IssueNote, OrderIssue
from issues.services import issue_update
from tests.concurrency import run_concurrently
from tests.factories import employee, issue_factory, order_with_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def groups(transactional_db):
    """A transactional test flushes the tables, the groups' permissions included: grant them again."""
    from django.apps import apps

    from config.permissions import sync_groups

    sync_groups(apps)


def test_concurrent_updates_both_land(transactional_db):
    agent = employee("emp_cs_001", "agent")
    other = employee("emp_cs_002", "agent")
    issue = issue_factory(order_with_items(), assigned_to=agent, priority="low")
    order_id, issue_id = issue.order.order_id, issue.issue_id

    results = run_concurrently(
        lambda: issue_update(
            order_id=order_id, issue_id=issue_id, actor=agent, changes={"status": "investigating", "notes": "A"}
        ),
        lambda: issue_update(
            order_id=order_id, issue_id=issue_id, actor=other, changes={"priority": "high", "notes": "B"}
        ),
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    issue = OrderIssue.objects.get(pk=issue.pk)
    assert (issue.status, issue.priority, issue.revision) == ("investigating", "high", 3)
    assert sorted(IssueNote.objects.filter(issue=issue).values_list("body", flat=True)) == ["A", "B"]
    assert issue.history.count() == 3  # created + one row per update


def test_concurrent_refunds_never_pass_what_was_paid(transactional_db):
    from decimal import Decimal

    from orders.errors import RefundProcessingError
    from orders.models import Refund

    agent = employee("emp_cs_001", "agent")
    order = order_with_items(items=2, unit_price=Decimal("10.00"))  # 20.00 paid
    first = issue_factory(order, assigned_to=agent)
    second = issue_factory(order, assigned_to=agent)
    changes = {"refund_amount": Decimal("15.00"), "refund_source": "merchant", "notes": "refund"}
    results = run_concurrently(
        lambda: issue_update(order_id=order.order_id, issue_id=first.issue_id, actor=agent, changes=changes),
        lambda: issue_update(order_id=order.order_id, issue_id=second.issue_id, actor=agent, changes=changes),
    )
    assert sorted(type(r).__name__ for r in results) == ["IssueUpdateResult", RefundProcessingError.__name__]
    assert Refund.objects.filter(order=order).count() == 1
    loser = first if isinstance(results[0], Exception) else second
    assert not IssueNote.objects.filter(issue=loser).exists()  # the refused update changed nothing


def test_a_stale_save_is_a_concurrent_update(transactional_db):
    from django_fsm import ConcurrentTransition

    agent = employee("emp_cs_001", "agent")
    issue = issue_factory(order_with_items(), assigned_to=agent)
    stale = OrderIssue.objects.get(pk=issue.pk)
    issue_update(
        order_id=issue.order.order_id, issue_id=issue.issue_id, actor=agent, changes={"status": "investigating"}
    )
    stale.escalate()
    with pytest.raises(ConcurrentTransition):
        stale.save()
