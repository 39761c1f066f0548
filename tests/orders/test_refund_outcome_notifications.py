"""Who is told that a refund failed (issue 21, item 4): the employee who asked for it and, when it belongs to an issue
(made for it, or paying an appeasement that settles it), the issue's assignee; once each, never for a completed one."""

from decimal import Decimal

import pytest

from issues.models import Notification, NotificationKind
from orders.models import OrderStatus, Refund, RefundCause, RefundSource, RefundStatus
from orders.services import refund_record
from returns.services import ReturnActor, order_return_whole
from tests.factories import issue_factory, order_with_items, submitted_appeasement

pytestmark = pytest.mark.django_db

FAILING = "orders.refund_processors.AlwaysFailingRefundProcessor"


@pytest.fixture
def failing(settings):
    settings.REFUND_PROCESSOR = FAILING


@pytest.fixture
def order(db):
    return order_with_items(items=2, unit_price=Decimal("50.00"), status=OrderStatus.COMPLETED)  # 100.00 paid


def told() -> list[tuple[str, str | None]]:
    rows = Notification.objects.filter(kind=NotificationKind.REFUND_FAILED).select_related("recipient", "issue")
    return sorted((n.recipient.username, n.issue.issue_id if n.issue else None) for n in rows)


def appeasement_for(order, agent, issue=None):
    """A submitted appeasement paying 10.00 through the ledger (``creditCard``: the merchant processor)."""
    return submitted_appeasement(order, agent, issue=issue)


def test_an_order_refund_tells_its_requester_only(order, agent, failing, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        refund = refund_record(order=order, actor=agent, amount=Decimal("5.00"), source=RefundSource.MERCHANT)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert told() == [("emp_cs_001", None)]
    message = Notification.objects.get(kind=NotificationKind.REFUND_FAILED).message
    assert refund.refund_id in message
    assert order.order_id in message
    assert "Declined by the payment provider" in message


def test_an_issue_refund_tells_the_requester_and_the_assignee(
    order, agent, other_agent, failing, django_capture_on_commit_callbacks
):
    issue = issue_factory(order, actor=agent, assigned_to=other_agent)
    with django_capture_on_commit_callbacks(execute=True):
        refund_record(
            order=order,
            actor=agent,
            amount=Decimal("5.00"),
            source=RefundSource.PLATFORM,
            cause_type=RefundCause.ISSUE,
            cause_id=issue.issue_id,
        )
    assert told() == [("emp_cs_001", issue.issue_id), ("emp_cs_002", issue.issue_id)]


def test_an_unassigned_issues_refund_tells_the_requester(order, agent, failing, django_capture_on_commit_callbacks):
    issue = issue_factory(order, actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        refund_record(
            order=order,
            actor=agent,
            amount=Decimal("5.00"),
            source=RefundSource.MERCHANT,
            cause_type=RefundCause.ISSUE,
            cause_id=issue.issue_id,
        )
    assert told() == [("emp_cs_001", issue.issue_id)]


def test_an_appeasement_of_an_issue_tells_its_assignee_too(
    order, agent, other_agent, failing, settings, django_capture_on_commit_callbacks
):
    settings.APPEASEMENT_POLICY_SHARE = 1
    issue = issue_factory(order, actor=agent, assigned_to=other_agent)
    with django_capture_on_commit_callbacks(execute=True):
        appeasement_for(order, agent, issue)
    assert Refund.objects.get(cause_type=RefundCause.APPEASEMENT).status == RefundStatus.FAILED
    assert told() == [("emp_cs_001", issue.issue_id), ("emp_cs_002", issue.issue_id)]


def test_an_appeasement_without_an_issue_tells_the_requester_only(
    order, agent, failing, settings, django_capture_on_commit_callbacks
):
    settings.APPEASEMENT_POLICY_SHARE = 1
    with django_capture_on_commit_callbacks(execute=True):
        appeasement_for(order, agent)
    assert Refund.objects.get(cause_type=RefundCause.APPEASEMENT).status == RefundStatus.FAILED
    assert told() == [("emp_cs_001", None)]


def test_a_return_refund_tells_the_requester_only(order, agent, failing, django_capture_on_commit_callbacks):
    issue_factory(order, actor=agent, assigned_to=agent)  # an issue on the order is not the return's
    with django_capture_on_commit_callbacks(execute=True):
        order_return_whole(order_id=order.order_id, actor=ReturnActor.employee(agent), return_code="2001", refund=True)
    assert Refund.objects.get(cause_type=RefundCause.RETURN).status == RefundStatus.FAILED
    assert told() == [("emp_cs_001", None)]


def test_completed_refunds_tell_nobody(order, agent, other_agent, settings, django_capture_on_commit_callbacks):
    settings.APPEASEMENT_POLICY_SHARE = 1
    issue = issue_factory(order, actor=agent, assigned_to=other_agent)
    with django_capture_on_commit_callbacks(execute=True):
        refund_record(
            order=order,
            actor=agent,
            amount=Decimal("5.00"),
            source=RefundSource.MERCHANT,
            cause_type=RefundCause.ISSUE,
            cause_id=issue.issue_id,
        )
        refund_record(order=order, actor=agent, amount=Decimal("5.00"), source=RefundSource.STORE_CREDIT)
        appeasement_for(order, agent, issue)
        written = Notification.objects.count()  # the appeasement's own (submitted); processing runs on exit
    assert set(Refund.objects.values_list("status", flat=True)) == {RefundStatus.COMPLETED}
    assert Notification.objects.count() == written
    assert told() == []
