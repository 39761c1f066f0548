"""Who hears about what: employees' and customers' notifications (rows now, e-mail after commit), follow-up
reminders, and what the issues app does when a refund fails or a webhook subscription is switched off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks import task

from config.history import save_with_history
from config.people import acting_label, managers
from config.tasks import enqueue_after_commit
from issues.models import (
    ApprovalRequest,
    IssueStatus,
    Notification,
    NotificationKind,
    OrderIssue,
)
from orders.models import Refund, RefundCause
from webhooks.services import NOTIFY_KIND


def notify(
    *,
    recipients: Iterable,
    kind: str,
    message: str,
    issue: OrderIssue | None = None,
    approval: ApprovalRequest | None = None,
    exclude=None,
    follow_up_for: datetime | None = None,
) -> list[Notification]:
    """One Notification per distinct recipient (never the actor who caused it), e-mailed after commit."""
    seen: set[int] = set()
    rows: list[Notification] = []
    for person in recipients:
        if person is None or person.pk in seen or (exclude is not None and person.pk == exclude.pk):
            continue
        seen.add(person.pk)
        row = Notification(
            recipient=person,
            kind=kind,
            message=message[:500],
            issue=issue,
            approval=approval,
            follow_up_for=follow_up_for,
        )
        save_with_history(row, actor=exclude, reason=f"Notification: {kind}")
        rows.append(row)
    if rows:
        enqueue_after_commit(deliver_notifications, [row.pk for row in rows])
    return rows


def notify_customer(
    *, email: str, kind: str, message: str, issue: OrderIssue | None = None, actor=None
) -> Notification | None:
    """A customer-facing message (no employee account), e-mailed after commit like every notification."""
    if not email:
        return None
    row = Notification(recipient_email=email, kind=kind, message=message[:500], issue=issue)
    save_with_history(row, actor=actor, reason=f"Customer notification: {kind}")
    enqueue_after_commit(deliver_notifications, [row.pk])
    return row


def notifications_deliver(*, notification_ids: list[int]) -> int:
    """E-mail the notifications not yet e-mailed (background task). Returns how many were sent."""
    sent = 0
    for pk in notification_ids:
        with transaction.atomic():
            row = (
                Notification.objects.select_for_update(of=("self",))
                .select_related("recipient", "issue")
                .filter(pk=pk, emailed_at__isnull=True)
                .first()
            )
            if row is None:
                continue
            address = row.recipient.email if row.recipient else row.recipient_email
            if not address:
                continue
            subject = f"[{row.issue.issue_id if row.issue else 'Back office'}] {row.get_kind_display()}"
            send_mail(subject, row.message, None, [address])
            row.emailed_at = timezone.now()
            save_with_history(row, actor=None, reason="E-mailed")
            sent += 1
    return sent


@task()
def deliver_notifications(notification_ids: list[int]) -> int:
    """The background task (``issues.tasks`` names it for jobs queued before it moved here)."""
    return notifications_deliver(notification_ids=notification_ids)


# --------------------------------------------------------------------------- what an issue's change tells
# Messages are read by people (e-mail, the admin): choices by their labels ("In progress", "Damaged item"), never
# the API's values, and every amount with its currency (tests/issues/test_notification_emails.py).


def issue_facts(issue: OrderIssue) -> str:
    """ "Damaged item, In progress, High priority": what the issue is and where it stands, in labels."""
    return f"{issue.get_issue_type_display()}, {issue.get_status_display()}, {issue.get_priority_display()} priority"


def issue_assigned_notify(*, issue: OrderIssue, actor) -> None:
    notify(
        recipients=[issue.assigned_to],
        kind=NotificationKind.ASSIGNED,
        issue=issue,
        exclude=actor,
        message=(
            f"Issue {issue.issue_id} on order {issue.order.order_id} was assigned to you: {issue.title} "
            f"({issue_facts(issue)})"
        ),
    )


def issue_critical_notify(*, issue: OrderIssue, actor) -> None:
    notify(
        recipients=[issue.assigned_to, *managers()],
        kind=NotificationKind.CRITICAL_ISSUE,
        issue=issue,
        exclude=actor,
        message=(
            f"Issue {issue.issue_id} on order {issue.order.order_id} is now {issue.get_priority_display()} "
            f"priority: {issue.title} ({issue_facts(issue)})"
        ),
    )


def issue_outcome_notify(*, issue: OrderIssue, actor) -> None:
    resolved = issue.status == IssueStatus.RESOLVED
    notify(
        recipients=[issue.assigned_to, issue.created_by],
        kind=NotificationKind.ISSUE_RESOLVED if resolved else NotificationKind.ISSUE_CLOSED,
        issue=issue,
        exclude=actor,
        message=(
            f"{acting_label(actor)} moved issue {issue.issue_id} on order {issue.order.order_id} to "
            f"{issue.get_status_display()}: {issue.title}"
        ),
    )


# --------------------------------------------------------------------------- follow-ups


def follow_up_reminders_send(*, now: datetime | None = None) -> int:
    """Notify assignees of due follow-ups, once per issue and follow-up date. Safe to run concurrently."""
    now = now or timezone.now()
    already = Notification.objects.filter(
        kind=NotificationKind.FOLLOW_UP_DUE,
        issue=OuterRef("pk"),
        recipient=OuterRef("assigned_to"),
        follow_up_for=OuterRef("follow_up_date"),
    )
    due = (
        OrderIssue.objects.filter(follow_up_required=True, follow_up_date__lte=now, assigned_to__isnull=False)
        .exclude(status=IssueStatus.CLOSED)
        .exclude(Exists(already))
        .select_related("assigned_to", "order")
    )
    sent = 0
    for issue in due:
        try:
            with transaction.atomic():
                notify(
                    recipients=[issue.assigned_to],
                    kind=NotificationKind.FOLLOW_UP_DUE,
                    issue=issue,
                    follow_up_for=issue.follow_up_date,
                    message=(
                        f"Follow-up due for issue {issue.issue_id} on order {issue.order.order_id}: {issue.title} "
                        f"({issue_facts(issue)})"
                    ),
                )
        except IntegrityError:  # another run sent it a moment ago
            continue
        sent += 1
    return sent


# --------------------------------------------------------------------------- signals of other apps


def refund_failed_notify(sender, *, refund: Refund, **kwargs) -> None:
    """``orders.signals.refund_failed`` (connected in ``IssuesConfig.ready``): ``refund_failed`` to the employee
    who asked for the refund and, when the refund belongs to an issue (its cause, or the issue the appeasement it
    pays settles), to the issue's assignee: one notification each (one in all when they are the same employee),
    e-mailed after commit. Sent once per refund: the failure is recorded under the refund's row lock, from
    ``processing`` only."""
    issue = _refund_issue(refund)
    where = f"order {refund.order.order_id}" + (f", issue {issue.issue_id}" if issue is not None else "")
    message = (
        f"Refund {refund.refund_id} of {refund.amount} {refund.currency} ({refund.get_source_display().lower()}, "
        f"{where}) failed at the processor: {refund.failure_reason or 'no reason given'}. Nothing was paid to the "
        "customer; the amount can be refunded again."
    )
    notify(
        recipients=[refund.requested_by, issue.assigned_to if issue is not None else None],
        kind=NotificationKind.REFUND_FAILED,
        message=message,
        issue=issue,
    )


def _refund_issue(refund: Refund) -> OrderIssue | None:
    """The issue a refund belongs to, with its assignee: the issue it was made for, or the one its appeasement
    settles; None for other refunds (an appeasement without an issue, a return, an order refund)."""
    issues = OrderIssue.objects.select_related("assigned_to").filter(order_id=refund.order_id)
    if refund.cause_type == RefundCause.ISSUE and refund.cause_id:
        return issues.filter(issue_id=refund.cause_id).first()
    if refund.cause_type == RefundCause.APPEASEMENT and refund.cause_id:
        return issues.filter(appeasements__appeasement_id=refund.cause_id).first()
    return None


def subscription_disabled_notify(sender, *, subscription, message: str, **kwargs) -> None:
    """``webhooks.signals.subscription_disabled`` (connected in ``IssuesConfig.ready``): the managers and the
    administrators hear that a webhook subscription was switched off after failing deliveries."""
    notify(recipients=managers(administrators=True), kind=NOTIFY_KIND, message=message)
