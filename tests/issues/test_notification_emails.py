"""Every e-mail the back office sends, rendered as it is sent (``notifications_deliver`` through the locmem mail
backend), with data in every status: subjects and bodies show choice labels ("In progress", "Damaged item",
"Reopening"), never the API's values (``in_progress``, ``damaged_item``, ``storeCredit``), and every amount with its
currency ("25.00 USD")."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from appeasements import services as appeasements
from issues import refund_requests
from issues.models import ApprovalKind, IssuePriority, IssueStatus, OrderIssue
from issues.services import approval_decide, follow_up_reminders_send, issue_transition
from issues.services.notifications import issue_assigned_notify, issue_critical_notify, issue_outcome_notify
from orders.models import OrderStatus, RefundCause, RefundLimit, RefundSource
from orders.services import refund_record
from tests.factories import issue_factory, order_with_items
from tests.plain_words import raw_choice_values, raw_values_in
from webhooks import services as webhooks
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db

AMOUNT = re.compile(r"(?<![\w.])\d+\.\d{2}(?![\d])")


def sent(capture, action) -> list[str]:
    """What ``action`` e-mails, once its transaction commits: each message's subject and body."""
    mail.outbox.clear()
    with capture(execute=True):
        action()
    return [f"{message.subject}\n{message.body}" for message in mail.outbox]


def assert_plain(emails: list[str], *labels: str) -> None:
    """Each e-mail: no raw choice value, every amount with its currency; each label in at least one of them."""
    assert emails, "nothing was e-mailed"
    raw = raw_choice_values()
    for text in emails:
        assert not raw_values_in(text, raw), f"raw values {raw_values_in(text, raw)} in:\n{text}"
        for amount in AMOUNT.finditer(text):
            assert re.match(r" [A-Z]{3}\b", text[amount.end() :]), f"{amount.group()} without a currency in:\n{text}"
    for label in labels:
        assert any(label in text for text in emails), f"{label!r} in none of:\n" + "\n---\n".join(emails)


@pytest.fixture(autouse=True)
def addresses(agent, manager):
    """The employees have e-mail addresses (an employee without one is not e-mailed)."""
    for person in (agent, manager):
        person.email = f"{person.username}@example.com"
        person.save(update_fields=["email"])


@pytest.fixture
def order(db):
    return order_with_items(items=2, unit_price=Decimal("50.00"), status=OrderStatus.COMPLETED)  # 100.00 paid


def issue_in(order, status, **kw) -> OrderIssue:
    issue = issue_factory(order, status=status, issue_type="damaged_item", **kw)
    return OrderIssue.objects.select_related("order", "assigned_to", "created_by").get(pk=issue.pk)


# --------------------------------------------------------------------------- the issue's own e-mails


@pytest.mark.parametrize("status", IssueStatus.values)
def test_assignment_critical_and_follow_up_emails_speak_plainly_in_every_status(
    status, order, agent, manager, django_capture_on_commit_callbacks
):
    issue = issue_in(order, status, assigned_to=agent, actor=manager, priority=IssuePriority.CRITICAL)
    label = IssueStatus(status).label
    assert_plain(
        sent(django_capture_on_commit_callbacks, lambda: issue_assigned_notify(issue=issue, actor=manager)),
        "Assigned to you",
        f"Damaged item, {label}, Critical priority",
    )
    assert_plain(
        sent(django_capture_on_commit_callbacks, lambda: issue_critical_notify(issue=issue, actor=manager)),
        "is now Critical priority",
        label,
    )
    if status != IssueStatus.CLOSED:  # a closed issue has no follow-up to remind
        OrderIssue.objects.filter(pk=issue.pk).update(
            follow_up_required=True, follow_up_date=timezone.now() - timedelta(hours=1)
        )
        assert_plain(sent(django_capture_on_commit_callbacks, follow_up_reminders_send), "Follow-up due", label)


@pytest.mark.parametrize("status", [IssueStatus.RESOLVED, IssueStatus.CLOSED])
def test_the_outcome_email_names_the_status_by_its_label(
    status, order, agent, manager, django_capture_on_commit_callbacks
):
    issue = issue_in(order, status, assigned_to=agent, actor=agent)
    emails = sent(django_capture_on_commit_callbacks, lambda: issue_outcome_notify(issue=issue, actor=manager))
    assert_plain(emails, f"to {IssueStatus(status).label}", NOTIFICATION_SUBJECTS[status])


NOTIFICATION_SUBJECTS = {IssueStatus.RESOLVED: "Issue resolved", IssueStatus.CLOSED: "Issue closed"}


# --------------------------------------------------------------------------- requests and their decisions


def escalation(issue, agent):
    issue_transition(issue=issue, actor=agent, transition_name="escalate", notes="The customer wants a manager.")


def reopening(issue, agent):
    issue_transition(issue=issue, actor=agent, transition_name="reopen", notes="It broke again.")


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
@pytest.mark.parametrize(
    ("kind", "status", "ask"),
    [
        (ApprovalKind.ESCALATION, IssueStatus.INVESTIGATING, escalation),
        (ApprovalKind.ESCALATION, IssueStatus.IN_PROGRESS, escalation),
        (ApprovalKind.REOPEN, IssueStatus.CLOSED, reopening),
    ],
)
def test_status_requests_and_their_decisions_speak_plainly(
    kind, status, ask, approve, order, agent, manager, django_capture_on_commit_callbacks
):
    issue = issue_in(order, status, assigned_to=agent, actor=agent)
    asked = sent(django_capture_on_commit_callbacks, lambda: ask(issue, agent))
    assert_plain(asked, "requested")
    approval = issue.approval_requests.get()
    decided = sent(
        django_capture_on_commit_callbacks,
        lambda: approval_decide(approval_id=approval.approval_id, actor=manager, approve=approve, note="Seen."),
    )
    assert_plain(decided, f"({ApprovalKind(kind).label}) was {'approved' if approve else 'rejected'}")


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
@pytest.mark.parametrize("source", RefundSource.values)
def test_a_refund_over_the_limit_and_its_decision_speak_plainly(
    source, approve, order, agent, manager, django_capture_on_commit_callbacks
):
    RefundLimit.objects.create(employee=agent, limit=Decimal("10.00"))
    issue = issue_in(order, IssueStatus.IN_PROGRESS, assigned_to=agent, actor=agent)

    def ask():
        refund_requests.refund_or_request(
            order=order,
            actor=agent,
            amount=Decimal("25.00"),
            source=source,
            cause_type=RefundCause.ISSUE,
            cause_id=issue.issue_id,
            reason="Cracked jug",
            issue=issue,
        )

    assert_plain(sent(django_capture_on_commit_callbacks, ask), "25.00 USD", "refund limit of 10.00 USD")
    approval = issue.approval_requests.get()
    decided = sent(
        django_capture_on_commit_callbacks,
        lambda: approval_decide(approval_id=approval.approval_id, actor=manager, approve=approve, note="Fine."),
    )
    assert_plain(decided, f"({ApprovalKind.REFUND.label})")


# store credit is issued here and cannot fail at a processor
@pytest.mark.parametrize("source", [s for s in RefundSource.values if s != RefundSource.STORE_CREDIT])
def test_a_failed_refund_names_its_source_and_currency(
    source, order, agent, settings, django_capture_on_commit_callbacks
):
    settings.REFUND_PROCESSOR = "orders.refund_processors.AlwaysFailingRefundProcessor"
    emails = sent(
        django_capture_on_commit_callbacks,
        lambda: refund_record(order=order, actor=agent, amount=Decimal("5.00"), source=source),
    )
    assert_plain(emails, "5.00 USD", RefundSource(source).label.lower())


# --------------------------------------------------------------------------- appeasements


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "rejected"])
@pytest.mark.parametrize("refund_type", ["storeCredit", "externalRefund", "creditCard"])
def test_an_appeasement_over_policy_its_decision_and_the_customers_email_speak_plainly(
    refund_type, approve, order, agent, manager, django_capture_on_commit_callbacks
):
    issue = issue_in(order, IssueStatus.IN_PROGRESS, assigned_to=agent, actor=agent)
    group = order.payments.get().payment_group_id if refund_type == "creditCard" else None

    def ask():
        created = appeasements.appeasement_create(
            caller=agent,
            data=appeasements.AppeasementInput(
                order_id=order.order_id,
                reason="incorrectItem",
                issue_id=issue.issue_id,
                refunds=[
                    appeasements.RefundInput(refund_type=refund_type, amount=Decimal("30.00"), payment_group_id=group)
                ],
                state="SUBMITTED",
            ),
        )
        assert created.state == "PENDING_APPROVAL"

    assert_plain(sent(django_capture_on_commit_callbacks, ask), "30.00 USD", "20.00 USD")
    approval = issue.approval_requests.get(kind=ApprovalKind.APPEASEMENT)
    decided = sent(
        django_capture_on_commit_callbacks,
        lambda: approval_decide(approval_id=approval.approval_id, actor=manager, approve=approve, note="Fine."),
    )
    assert_plain(decided, f"({ApprovalKind.APPEASEMENT.label})")
    if approve:  # the agent hears it was submitted, the customer of the credit
        assert_plain(decided, "Appeasement submitted", "Goodwill credit (to the customer)", "credited you 30.00 USD")


# --------------------------------------------------------------------------- the webhooks' e-mail


def test_a_disabled_webhook_subscription_tells_the_managers_plainly(manager, django_capture_on_commit_callbacks):
    sub = Subscription.objects.create(
        url="https://hooks.example.com/x",
        account=settings.DEFAULT_ACCOUNT_ID,
        consecutive_failures=settings.WEBHOOKS_DISABLE_AFTER_FAILURES - 1,
    )
    emails = sent(django_capture_on_commit_callbacks, lambda: webhooks._count_failure(sub))
    assert_plain(emails, "was disabled")
