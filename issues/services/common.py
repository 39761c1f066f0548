"""What every issue write shares: finding and locking the issue, saving it with history, adding a note, who can
be assigned, which moves the workflow allows from here."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_fsm import ConcurrentTransition

from config.errors import ConcurrentUpdate
from config.history import save_with_history
from config.permissions import AGENT_GROUP, MANAGER_GROUP
from issues.errors import IssueNotFound
from issues.models import IssueNote, NoteChannel, NoteKind, OrderIssue
from orders.services import order_get

NOTES_MAX = 2000
ISSUE_TARGET = "issue"  # ApprovalRequest.target_type of requests about an issue


def assignable_employee(employee_id: str):
    """An active agent or manager with this employee ID, or None."""
    return (
        get_user_model()
        .objects.filter(username=employee_id, is_active=True, groups__name__in=[AGENT_GROUP, MANAGER_GROUP])
        .first()
    )


def allowed_statuses(issue: OrderIssue) -> list[str]:
    """Statuses the issue can move to from where it is (whoever may take the move)."""
    return sorted({t.target for t in issue.get_available_status_transitions()})


def find_transition(issue: OrderIssue, target: str):
    return next((t for t in issue.get_available_status_transitions() if t.target == target), None)


def issue_get(*, order_id: str, issue_id: str) -> OrderIssue:
    """The issue of this order, or ORDER_NOT_FOUND / ISSUE_NOT_FOUND (an issue of another order is not found)."""
    issue = OrderIssue.objects.filter(issue_id=issue_id, order__order_id=order_id).first()
    if issue is None:
        order_get(order_id)  # ORDER_NOT_FOUND first; one query on the hot path, not two
        raise IssueNotFound(issue_id=issue_id, order_id=order_id)
    return issue


def issue_locked(*, order_id: str, issue_id: str) -> OrderIssue:
    """The issue of this order, its row locked until the transaction ends (errors as :func:`issue_get`)."""
    issue = (
        OrderIssue.objects.select_for_update(of=("self",))
        .select_related("order", "assigned_to", "created_by")
        .filter(issue_id=issue_id, order__order_id=order_id)
        .first()
    )
    if issue is None:  # also an issue of another order: its id tells the caller nothing
        order_get(order_id)  # ORDER_NOT_FOUND first; one query on the hot path, not two
        raise IssueNotFound(issue_id=issue_id, order_id=order_id)
    return issue


def issue_save(issue: OrderIssue, *, actor, reason: str) -> None:
    """Save with a history row; the revision (the ETag) moves."""
    issue.revision += 1
    try:
        save_with_history(issue, actor=actor, reason=reason)
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate(issue_id=issue.issue_id) from exc


def note_add(*, issue: OrderIssue, actor, body: str, kind: str = NoteKind.INTERNAL, channel: str = NoteChannel.API):
    note = IssueNote(issue=issue, author=actor, body=body, kind=kind, channel=channel)
    save_with_history(note, actor=actor, reason="Note added")
    return note
