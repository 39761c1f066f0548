"""The metrics never make one issue write wait on another (PostgreSQL, real connections and threads).

The triggers append deltas instead of updating counter rows: two transactions writing issues created on the same
day (new issues, status and priority changes, refunds, the same customer) do not block each other, opposite-order
multi-issue updates cannot deadlock on the metrics, and compaction neither blocks writers nor loses the deltas of
a transaction still open."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from issues import metrics
from issues.models import IssueMetricsDelta, OrderIssue
from issues.selectors import issue_metrics, issue_metrics_reference
from issues.services import issue_update
from orders.services import refund_record
from tests.factories import employee, issue_factory, order_with_items
from tests.issues.test_metrics_rollup import snapshot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def groups(transactional_db):
    """A transactional test flushes the tables, the groups' permissions included: grant them again."""
    from django.apps import apps

    from config.permissions import sync_groups

    sync_groups(apps)


def no_waiting(cursor) -> None:
    """Any lock wait in this transaction fails at once instead of blocking."""
    cursor.execute("SET LOCAL lock_timeout = '500ms'")


def writes(agent, issue, order) -> None:
    """A support agent's transaction: a new issue today, a change to an issue of today, a refund for it."""
    with connection.cursor() as cursor:
        no_waiting(cursor)
    issue_factory(order, priority="high").affected_items.add(order.items.first())
    issue_update(
        order_id=order.order_id, issue_id=issue.issue_id, actor=agent, changes={"status": "investigating", "notes": "x"}
    )
    issue_update(
        order_id=order.order_id, issue_id=issue.issue_id, actor=agent, changes={"priority": "critical", "notes": "y"}
    )
    refund_record(
        order=order, actor=agent, amount=Decimal("5.00"), source="merchant", cause_type="issue", cause_id=issue.issue_id
    )


def assert_rollup_right() -> None:
    kept = snapshot()
    metrics.rebuild()
    assert snapshot() == kept
    now = timezone.now()
    for bounds in ({}, {"created_after": now - timedelta(days=2, hours=1)}):
        assert issue_metrics(now=now, **bounds) == issue_metrics_reference(now=now, **bounds)


def test_same_day_writers_do_not_wait_on_each_other_nor_on_compaction():
    agent = employee("emp_cs_001", "agent")
    other = employee("emp_cs_002", "agent")
    # two orders of one customer (one key in the per-customer counts), issues created today (one day's counters)
    first_order, second_order = (
        order_with_items(customer_email="same@example.com", unit_price=Decimal(50)) for _ in range(2)
    )
    first_issue = issue_factory(first_order, assigned_to=agent, priority="low")
    second_issue = issue_factory(second_order, assigned_to=other, priority="low")
    metrics.compact()  # the day's counters exist as rollup rows

    first_done, release = threading.Event(), threading.Event()
    failures: list = []

    def first():
        try:
            with transaction.atomic():
                writes(agent, first_issue, first_order)
                first_done.set()
                assert release.wait(30)  # left open while the second transaction runs
        except Exception as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)
            first_done.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert first_done.wait(30)
        assert not failures, failures
        pending = IssueMetricsDelta.objects.count()  # the open transaction's deltas are not visible here
        with transaction.atomic():  # the same keys while the first transaction holds whatever it wrote
            writes(other, second_issue, second_order)
        with transaction.atomic(), connection.cursor() as cursor:
            no_waiting(cursor)
            assert metrics.compact()[0] > pending  # folds the committed deltas, skips the open transaction's
    finally:
        release.set()
        thread.join(30)
    assert not failures, failures
    assert IssueMetricsDelta.objects.exists()  # the first transaction's deltas stayed, with ids below the second's
    assert_rollup_right()
    assert OrderIssue.objects.filter(status="investigating", priority="critical").count() == 2


def test_opposite_order_updates_do_not_deadlock_on_the_metrics():
    agent = employee("emp_cs_001", "agent")
    today, earlier = [], []
    for _ in range(2):  # four orders, so the only shared rows would be the metrics of two days
        today.append(issue_factory(order_with_items(customer_email="same@example.com"), priority="low"))
        issue = issue_factory(order_with_items(customer_email="same@example.com"), priority="low")
        OrderIssue.objects.filter(pk=issue.pk).update(created_at=timezone.now() - timedelta(days=1))
        earlier.append(issue)
    metrics.compact()
    barrier = threading.Barrier(2)
    failures: list = []

    def update(issues):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    no_waiting(cursor)
                for step, issue in enumerate(issues):
                    issue_update(
                        order_id=issue.order.order_id,
                        issue_id=issue.issue_id,
                        actor=agent,
                        changes={"priority": "high", "notes": "z"},
                    )
                    if step == 0:
                        barrier.wait(10)  # both hold their first day's writes before touching the other day
        except Exception as exc:  # noqa: BLE001 - asserted below
            failures.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=update, args=([today[0], earlier[0]],)),
        threading.Thread(target=update, args=([earlier[1], today[1]],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures
    assert OrderIssue.objects.filter(priority="high").count() == 4
    assert_rollup_right()
