"""Issue metrics (computed in the database) and the follow-up reminder command."""

from datetime import timedelta
from decimal import Decimal

from django.core.management import call_command
from django.utils import timezone

from issues.models import Notification, OrderIssue
from issues.selectors import issue_metrics
from orders.services import refund_record
from tests.factories import CategoryFactory, issue_factory, order_with_items


def resolved_issue(order, hours, **kw):
    issue = issue_factory(order, **kw)
    created = timezone.now() - timedelta(days=5)
    OrderIssue.objects.filter(pk=issue.pk).update(
        status="resolved", created_at=created, resolved_at=created + timedelta(hours=hours)
    )
    return issue


def test_metrics(api, manager, agent):
    order = order_with_items(items=2, customer_email="repeat@example.com")
    item = order.items.first()
    item.category = CategoryFactory(name="Bakery")
    item.save()
    issues = [resolved_issue(order, h, customer_satisfied=s) for h, s in [(1, True), (2, True), (3, False), (10, None)]]
    for issue in issues[:2]:
        issue.affected_items.add(item)
    issue_factory(order_with_items(), priority="critical", issue_type="billing")
    refund_record(
        order=order,
        actor=agent,
        amount=Decimal("5.00"),
        source="merchant",
        cause_type="issue",
        cause_id=issues[0].issue_id,
    )
    refund_record(
        order=order,
        actor=agent,
        amount=Decimal("2.50"),
        source="merchant",
        cause_type="issue",
        cause_id=issues[1].issue_id,
    )
    refund_record(order=order, actor=agent, amount=Decimal("1.00"), source="platform")  # not an issue refund

    response = api(manager).get("/api/v1/issues/metrics")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["total"] == 5
    assert body["by_status"] == {"resolved": 4, "open": 1}
    assert body["by_priority"] == {"medium": 4, "critical": 1}
    assert body["by_type"] == {"wrong_item": 4, "billing": 1}
    # durations 1, 2, 3, 10 hours: median 2.5, p90 = 3 + 0.7 * 7 = 7.9 (percentile_cont)
    assert body["time_to_resolution"] == {"resolved_count": 4, "median_hours": 2.5, "p90_hours": 7.9}
    assert body["satisfaction"] == {"answered": 3, "satisfied": 2, "rate": 0.6667}
    assert body["refunds_by_source"] == [{"source": "merchant", "currency": "USD", "count": 2, "amount": 7.5}]
    assert body["recurring"]["skus"] == [{"sku": item.sku, "issues": 2}]
    assert body["recurring"]["categories"] == [{"category": "Bakery", "issues": 2}]
    assert body["recurring"]["customers"][0] == {"customer_email": "repeat@example.com", "issues": 4}


def test_metrics_date_range(api, manager, db):
    old = issue_factory()
    OrderIssue.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=60))
    issue_factory()
    after = (timezone.now() - timedelta(days=30)).isoformat().replace("+00:00", "Z")
    body = api(manager).get("/api/v1/issues/metrics", {"created_after": after}).json()
    assert body["total"] == 1
    assert body["time_to_resolution"]["median_hours"] is None
    assert (
        api(manager).get("/api/v1/issues/metrics", {"created_after": "soon"}).json()["error_code"] == "VALIDATION_ERROR"
    )


def test_metrics_run_a_fixed_number_of_queries(django_assert_num_queries, db):
    order = order_with_items()
    for hours in range(1, 4):
        resolved_issue(order, hours)
    with django_assert_num_queries(10) as few:
        issue_metrics()
    for hours in range(4, 40):
        resolved_issue(order, hours)
    with django_assert_num_queries(len(few)):
        issue_metrics()


def test_follow_up_reminders_are_sent_once(agent, other_agent, db, django_capture_on_commit_callbacks):
    now = timezone.now()
    due = issue_factory(assigned_to=agent, follow_up_required=True, follow_up_date=now - timedelta(minutes=5))
    issue_factory(assigned_to=agent, follow_up_required=True, follow_up_date=now + timedelta(days=1))  # not yet
    issue_factory(assigned_to=agent, follow_up_required=False, follow_up_date=now - timedelta(days=1))  # not needed
    issue_factory(
        assigned_to=other_agent, follow_up_required=True, follow_up_date=now - timedelta(days=1), status="closed"
    )

    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_follow_up_reminders")
    call_command("send_follow_up_reminders")
    reminders = Notification.objects.filter(kind="follow_up_due")
    assert [(n.issue_id, n.recipient_id) for n in reminders] == [(due.pk, agent.pk)]

    # a new follow-up date is a new reminder
    OrderIssue.objects.filter(pk=due.pk).update(follow_up_date=now - timedelta(minutes=1))
    call_command("send_follow_up_reminders")
    assert Notification.objects.filter(kind="follow_up_due").count() == 2
