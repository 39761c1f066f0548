"""SLA clocks: deadlines per priority, waits on the customer stop the clock, escalation does not; filters."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from issues import services, sla
from issues.models import OrderIssue
from issues.selectors import issue_metrics
from tests.factories import issue_factory, order_with_items

TARGETS = {
    "critical": {"first_response_hours": 1, "resolution_hours": 8},
    "high": {"first_response_hours": 4, "resolution_hours": 24},
    "medium": {"first_response_hours": 8, "resolution_hours": 72},
    "low": {"first_response_hours": 24, "resolution_hours": 168},
}

pytestmark = pytest.mark.django_db


def opened(hours_ago: float, **kw) -> OrderIssue:
    """An issue opened ``hours_ago`` hours ago (deadlines as if created then)."""
    issue = issue_factory(order_with_items(), created_at=timezone.now() - timedelta(hours=hours_ago), **kw)
    return OrderIssue.objects.get(pk=issue.pk)


def annotated(issue, now=None) -> OrderIssue:
    return sla.annotate(OrderIssue.objects.filter(pk=issue.pk), now).get()


def test_deadlines_follow_the_priority_targets():
    issue = opened(0, priority="critical")
    assert issue.first_response_due_at - issue.created_at == timedelta(hours=1)
    assert issue.resolution_due_at - issue.created_at == timedelta(hours=8)


@override_settings(SLA_TARGETS={**TARGETS, "high": {"first_response_hours": 2, "resolution_hours": 10}})
def test_targets_come_from_settings():
    issue = opened(0, priority="high")
    assert issue.resolution_due_at - issue.created_at == timedelta(hours=10)


def test_time_left_and_overdue_are_computed_by_the_database():
    fresh, late = opened(1, priority="high"), opened(30, priority="high")
    assert timedelta(hours=22, minutes=59) < annotated(fresh).sla_left <= timedelta(hours=23)
    assert annotated(late).sla_left < -timedelta(hours=5, minutes=59)
    assert annotated(late).sla_breached
    assert not annotated(fresh).sla_breached
    breached = sla.filter_breached(sla.annotate(OrderIssue.objects.all()))
    assert list(breached) == [late]


def test_breaching_within_the_hour():
    soon, later = opened(23.5, priority="high", first_response_at=timezone.now()), opened(1, priority="high")
    OrderIssue.objects.filter(pk=later.pk).update(first_response_at=timezone.now())
    found = sla.filter_breaching_soon(sla.annotate(OrderIssue.objects.all()))
    assert list(found) == [soon]


def test_first_response_clock(agent):
    issue = opened(2, priority="critical", assigned_to=agent)
    assert list(sla.filter_breached(sla.annotate(OrderIssue.objects.all()))) == [issue]  # 1h target, no answer
    services.issue_note_add(issue=issue, actor=agent, body="Called the customer")
    issue.refresh_from_db()
    assert issue.first_response_at is not None
    assert issue.first_response_at > issue.first_response_due_at  # late, and stays late


def test_a_note_in_time_meets_the_first_response_target(agent):
    issue = opened(0, priority="medium", assigned_to=agent)
    services.issue_update(order_id=issue.order.order_id, issue_id=issue.issue_id, actor=agent, changes={"notes": "Hi"})
    issue.refresh_from_db()
    assert issue.first_response_at <= issue.first_response_due_at
    assert not annotated(issue).sla_breached


def test_waiting_on_the_customer_stops_the_clock_and_escalation_does_not(agent, manager):
    issue = opened(10, priority="high", assigned_to=agent)
    order_id = issue.order.order_id
    due_before = issue.resolution_due_at
    follow_up = timezone.now() + timedelta(days=2)
    services.issue_update(
        order_id=order_id,
        issue_id=issue.issue_id,
        actor=agent,
        changes={"follow_up_required": True, "follow_up_date": follow_up, "notes": "Asked for photos"},
    )
    issue.refresh_from_db()
    assert issue.sla_paused_since is not None
    left_now = annotated(issue).sla_left
    # a day later, still waiting: the same time is left
    assert abs(annotated(issue, timezone.now() + timedelta(days=1)).sla_left - left_now) < timedelta(seconds=5)
    assert annotated(issue).sla_waiting
    # the customer answered after 3 hours: the follow-up is cleared, the 3 hours are added to the deadline
    later = timezone.now() + timedelta(hours=3)
    issue = OrderIssue.objects.get(pk=issue.pk)
    snapshot = sla.begin(issue, later)
    issue.follow_up_required, issue.follow_up_date = False, None
    sla.finish(issue, later, responded=True, snapshot=snapshot)
    assert timedelta(hours=2, minutes=59) < issue.resolution_due_at - due_before <= timedelta(hours=3, seconds=5)
    # escalated time counts: escalating moves no deadline
    issue.save()
    services.issue_update(
        order_id=order_id, issue_id=issue.issue_id, actor=manager, changes={"status": "escalated", "notes": "Boss"}
    )
    escalated = OrderIssue.objects.get(pk=issue.pk)
    assert escalated.status == "escalated"
    assert escalated.resolution_due_at == issue.resolution_due_at
    assert escalated.sla_paused_since is None


def test_raising_the_priority_moves_the_deadlines(agent):
    issue = opened(0, priority="low", assigned_to=agent)
    services.issue_update(
        order_id=issue.order.order_id,
        issue_id=issue.issue_id,
        actor=agent,
        changes={"priority": "critical", "notes": "Customer is furious"},
    )
    issue.refresh_from_db()
    assert issue.resolution_due_at - issue.created_at == timedelta(hours=8)


def test_metrics_include_the_breach_rate():
    opened(30, priority="high")
    opened(1, priority="high", first_response_at=timezone.now())
    metrics = issue_metrics()
    assert metrics["sla"]["breached"] == 1
    assert metrics["sla"]["rate"] == 0.5
