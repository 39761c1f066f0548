"""Every write to order issues, their notes, approval requests and notifications.

API views, admin pages and commands call these functions; they enforce the rules of the approval queue and
the issue update contract and raise domain errors. Each public function is one transaction: a refused call changes
nothing (no field, note, refund, approval or history row).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_fsm import ConcurrentTransition

from config.errors import (
    ConcurrentUpdate,
    Duplicate,
    InvalidStatusTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from config.history import save_with_history
from config.people import acting_label, managers, own_credential_required
from config.permissions import AGENT_GROUP, MANAGER_GROUP
from config.tasks import enqueue_after_commit
from issues import approvals, sla
from issues.errors import IssueNotFound
from issues.models import (
    DECIDE_APPROVAL,
    PRIORITY_RANK,
    ApprovalKind,
    ApprovalRequest,
    ApprovalState,
    IssueNote,
    IssuePriority,
    IssueStatus,
    NoteChannel,
    NoteKind,
    Notification,
    NotificationKind,
    OrderIssue,
)
from orders.models import OrderItem, Refund, RefundCause
from orders.services import order_get
from webhooks.services import event_emit

logger = logging.getLogger(__name__)

NOTES_MAX = 2000
# The seed's request fields, in the order ``updated_fields`` lists them.
UPDATE_FIELDS = (
    "notes",
    "priority",
    "status",
    "refund_amount",
    "refund_source",
    "resolution_description",
    "customer_satisfied",
    "follow_up_required",
    "follow_up_date",
    "assigned_to",
)
NOTES_REQUIRED_FOR = (IssueStatus.RESOLVED, IssueStatus.CLOSED)
ISSUE_TARGET = "issue"


# --------------------------------------------------------------------------- helpers


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


def _issue_locked(*, order_id: str, issue_id: str) -> OrderIssue:
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


def _save_issue(issue: OrderIssue, *, actor, reason: str) -> None:
    issue.revision += 1
    try:
        save_with_history(issue, actor=actor, reason=reason)
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate(issue_id=issue.issue_id) from exc


def _add_note(*, issue: OrderIssue, actor, body: str, kind: str = NoteKind.INTERNAL, channel: str = NoteChannel.API):
    note = IssueNote(issue=issue, author=actor, body=body, kind=kind, channel=channel)
    save_with_history(note, actor=actor, reason="Note added")
    return note


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
        from issues.tasks import deliver_notifications

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
    from issues.tasks import deliver_notifications

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


# --------------------------------------------------------------------------- create


@transaction.atomic
def issue_create(*, order_id: str, actor, data: dict[str, Any]) -> OrderIssue:
    """Report an issue on an order. ``data`` holds the validated POST body."""
    order = order_get(order_id)
    errors: list[dict[str, str]] = []
    wanted = list(dict.fromkeys(data.get("order_item_ids") or []))
    items = list(OrderItem.objects.filter(order=order, order_item_id__in=wanted))
    if len(items) != len(wanted):
        found = {i.order_item_id for i in items}
        missing = ", ".join(str(w) for w in wanted if w not in found)
        errors.append({"field": "order_item_ids", "error": f"Not items of order {order.order_id}: {missing}"})
    assignee = None
    if data.get("assigned_to"):
        assignee = assignable_employee(data["assigned_to"])
        if assignee is None:
            errors.append({"field": "assigned_to", "error": "Must be an active agent or manager"})
    notes = data.get("notes")
    if notes is not None and not notes.strip():
        errors.append({"field": "notes", "error": "Cannot be empty"})
    if errors:
        raise ValidationFailed(errors)

    issue = OrderIssue(
        order=order,
        issue_type=data["issue_type"],
        title=data["title"],
        description=data.get("description", ""),
        priority=data.get("priority") or IssuePriority.MEDIUM,
        assigned_to=assignee,
        created_by=actor,
    )
    save_with_history(issue, actor=actor, reason="Issue reported")
    if items:
        issue.affected_items.set(items)
    if notes:
        _add_note(issue=issue, actor=actor, body=notes)
    if assignee is not None:
        notify(
            recipients=[assignee],
            kind=NotificationKind.ASSIGNED,
            issue=issue,
            exclude=actor,
            message=f"Issue {issue.issue_id} on order {order.order_id} was assigned to you: {issue.title}",
        )
    if issue.priority == IssuePriority.CRITICAL:
        _notify_critical(issue=issue, actor=actor)
    event_emit("issue.created", issue)
    return issue


def _notify_critical(*, issue: OrderIssue, actor) -> None:
    notify(
        recipients=[issue.assigned_to, *managers()],
        kind=NotificationKind.CRITICAL_ISSUE,
        issue=issue,
        exclude=actor,
        message=f"Issue {issue.issue_id} on order {issue.order.order_id} is now CRITICAL: {issue.title}",
    )


# --------------------------------------------------------------------------- update (docs/api/backoffice.md)


@dataclass(frozen=True)
class IssueUpdateResult:
    issue: OrderIssue
    updated_fields: list[str]
    previous_status: str
    new_status: str
    refund: Refund | None
    approval: ApprovalRequest | None  # the first of ``approvals``
    timestamp: datetime
    approvals: tuple[ApprovalRequest, ...] = ()

    @property
    def refund_processed(self) -> bool:
        return self.refund is not None

    @property
    def message(self) -> str:
        if self.approvals:
            asked = " and ".join(_asked(a) for a in self.approvals)
            return f"{asked[:1].upper()}{asked[1:]}; waiting for a manager's approval. Other changes were applied."
        if not self.updated_fields:
            return "No changes: values already current"
        if self.new_status != self.previous_status and self.new_status == IssueStatus.RESOLVED:
            return "Issue successfully updated and resolution recorded"
        return "Issue successfully updated"


def _asked(approval: ApprovalRequest) -> str:
    if approval.kind == ApprovalKind.REFUND:
        return f"refund of {approval.payload['amount']} {approval.payload['currency']} requested (over the limit)"
    return "escalation requested" if approval.kind == ApprovalKind.ESCALATION else "reopening requested"


def _validate_changes(issue: OrderIssue, changes: dict[str, Any], now: datetime) -> None:
    """Every field rule of the issue update contract that needs the issue; raises one VALIDATION_ERROR listing all
    problems."""
    errors: list[dict[str, str]] = []
    notes = changes.get("notes")
    if "notes" in changes:
        if notes is None or not notes.strip():
            errors.append({"field": "notes", "error": "Cannot be empty"})
        elif len(notes) > NOTES_MAX:
            errors.append({"field": "notes", "error": f"Must be at most {NOTES_MAX} characters"})
    has_notes = bool(notes and notes.strip())

    status = changes.get("status")
    if status is not None and status not in IssueStatus.values:
        errors.append({"field": "status", "error": f"Must be one of: {', '.join(IssueStatus.values)}"})
    elif status in NOTES_REQUIRED_FOR and status != issue.status and not has_notes and "notes" not in changes:
        errors.append({"field": "notes", "error": f"Required when changing status to {status}"})

    priority = changes.get("priority")
    if priority is not None:
        if priority not in IssuePriority.values:
            errors.append({"field": "priority", "error": f"Must be one of: {', '.join(IssuePriority.values)}"})
        elif PRIORITY_RANK[priority] > PRIORITY_RANK[issue.priority] and not has_notes and "notes" not in changes:
            errors.append({"field": "notes", "error": "Required to justify raising the priority"})

    amount, source = changes.get("refund_amount"), changes.get("refund_source")
    if amount is not None and Decimal(amount) <= 0:
        errors.append({"field": "refund_amount", "error": "Must be a positive number"})
    if amount is not None and not source:
        errors.append({"field": "refund_source", "error": "Required when refund_amount is specified"})
    if source and amount is None:
        errors.append({"field": "refund_amount", "error": "Required when refund_source is specified"})

    date = changes.get("follow_up_date")
    if date is not None and date <= now:
        errors.append({"field": "follow_up_date", "error": "Must be in the future"})
    if changes.get("follow_up_required") is True and date is None:
        if not (issue.follow_up_date and issue.follow_up_date > now):
            errors.append({"field": "follow_up_date", "error": "Required when follow_up_required is true"})

    if changes.get("assigned_to") and assignable_employee(changes["assigned_to"]) is None:
        errors.append({"field": "assigned_to", "error": "Must be an active agent or manager"})
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def issue_update(
    *, order_id: str, issue_id: str, actor, changes: dict[str, Any], channel: str = NoteChannel.API
) -> IssueUpdateResult:
    """Update an issue (the issue update contract). ``changes`` holds only the fields the caller sent (no
    ``updated_by``).

    An escalation or reopening by someone without the permission to apply it directly applies every
    other change and creates a pending :class:`ApprovalRequest` instead of moving the status.
    """
    issue = _issue_locked(order_id=order_id, issue_id=issue_id)
    now = timezone.now()
    previous_status = issue.status
    _validate_changes(issue, changes, now)

    # The status move: legal from here? allowed for the actor? applied now, or requested?
    requested = changes.get("status")
    transition, approval_kind = None, None
    if requested is not None and requested != issue.status:
        transition = find_transition(issue, requested)
        if transition is None:
            raise InvalidStatusTransition(
                f"Cannot move an issue from {issue.status} to {requested}",
                current_status=issue.status,
                requested_status=requested,
                allowed_transitions=allowed_statuses(issue),
            )
        if not transition.has_perm(issue, actor):
            what = f"Moving an issue from {issue.status} to {requested}"
            refusal = own_credential_required(actor, what)
            if refusal is not None:
                refusal.extra |= {"required_permission": transition.permission, "current_status": issue.status}
                raise refusal
            raise PermissionDenied(
                f"{what} needs the permission {transition.permission}",
                required_permission=transition.permission,
                current_status=issue.status,
                requested_status=requested,
            )
        direct_permission = transition.custom.get("approval_permission")
        if direct_permission and not actor.has_perm(direct_permission):
            approval_kind = transition.custom["approval_kind"]
            pending = ApprovalRequest.objects.filter(
                target_type=ISSUE_TARGET, target_id=issue.issue_id, kind=approval_kind, state=ApprovalState.PENDING
            ).first()
            if pending is not None:
                raise Duplicate(
                    f"A {approval_kind} request for this issue is already waiting for a manager",
                    approval_request_id=pending.approval_id,
                )

    updated: list[str] = []
    sla_snapshot = sla.begin(issue, now)
    notes = changes.get("notes")
    if notes:
        _add_note(issue=issue, actor=actor, body=notes, channel=channel)
        updated.append("notes")

    old_priority, old_assignee = issue.priority, issue.assigned_to
    if changes.get("priority") and changes["priority"] != issue.priority:
        issue.priority = changes["priority"]
        updated.append("priority")
    if transition is not None and approval_kind is None:
        getattr(issue, transition.name)()
        updated.append("status")
    for name in ("resolution_description", "customer_satisfied", "follow_up_required", "follow_up_date"):
        if name in changes and getattr(issue, name) != changes[name]:
            setattr(issue, name, changes[name])
            updated.append(name)
    if "assigned_to" in changes:
        assignee = assignable_employee(changes["assigned_to"]) if changes["assigned_to"] else None
        if assignee != old_assignee:
            issue.assigned_to = assignee
            updated.append("assigned_to")

    refund, refund_request = None, None
    if changes.get("refund_amount") is not None:
        from issues.refund_requests import refund_or_request

        refund_or_approval = refund_or_request(
            order=issue.order,
            actor=actor,
            amount=changes["refund_amount"],
            source=changes["refund_source"],
            cause_type=RefundCause.ISSUE,
            cause_id=issue.issue_id,
            reason=(notes or f"Issue {issue.issue_id}")[:255],
            issue=issue,
        )
        if isinstance(refund_or_approval, Refund):
            refund = refund_or_approval
            updated += ["refund_amount", "refund_source"]
        else:
            refund_request = refund_or_approval
    updated.sort(key=UPDATE_FIELDS.index)

    issue_fields = [f for f in updated if f not in ("notes", "refund_amount", "refund_source")]
    responded = sla.finish(issue, now, responded="notes" in updated or "status" in updated, snapshot=sla_snapshot)
    # What else the issue's representation shows (its notes, refunds, requests waiting) moves its revision too.
    shown = [
        what
        for what, happened in (
            ("note", "notes" in updated),
            ("refund", refund is not None or refund_request is not None),
            ("request", approval_kind is not None),
        )
        if happened
    ]
    if issue_fields:
        reason = f"Status {previous_status} -> {issue.status}" if "status" in issue_fields else "Issue updated"
        _save_issue(issue, actor=actor, reason=f"{reason}: {', '.join(issue_fields)}")
    elif responded:
        _save_issue(issue, actor=actor, reason="First response")
    elif shown:
        _save_issue(issue, actor=actor, reason=f"Added: {', '.join(shown)}")

    approval = None
    if approval_kind is not None:
        approval = _approval_request_create(issue=issue, actor=actor, kind=approval_kind, status=requested, notes=notes)
    elif transition is not None and transition.custom.get("approval_kind"):
        _cancel_pending(issue=issue, actor=actor, kind=transition.custom["approval_kind"])
    approvals = tuple(a for a in (approval, refund_request) if a is not None)
    if "status" in updated:
        event_emit("issue.status_changed", issue, extra={"from": previous_status, "to": issue.status})
    if "assigned_to" in updated:
        event_emit("issue.assigned", issue)

    # Side effects (after commit)
    if "priority" in updated and issue.priority == IssuePriority.CRITICAL and old_priority != IssuePriority.CRITICAL:
        _notify_critical(issue=issue, actor=actor)
    if "assigned_to" in updated and issue.assigned_to is not None:
        notify(
            recipients=[issue.assigned_to],
            kind=NotificationKind.ASSIGNED,
            issue=issue,
            exclude=actor,
            message=f"Issue {issue.issue_id} on order {issue.order.order_id} was assigned to you: {issue.title}",
        )
    if "status" in updated and issue.status in (IssueStatus.RESOLVED, IssueStatus.CLOSED):
        _notify_outcome(issue=issue, actor=actor)
    return IssueUpdateResult(
        issue=issue,
        updated_fields=updated,
        previous_status=previous_status,
        new_status=issue.status,
        refund=refund,
        approval=approvals[0] if approvals else None,
        timestamp=now,
        approvals=approvals,
    )


def _notify_outcome(*, issue: OrderIssue, actor) -> None:
    resolved = issue.status == IssueStatus.RESOLVED
    notify(
        recipients=[issue.assigned_to, issue.created_by],
        kind=NotificationKind.ISSUE_RESOLVED if resolved else NotificationKind.ISSUE_CLOSED,
        issue=issue,
        exclude=actor,
        message=f"Issue {issue.issue_id} on order {issue.order.order_id} was {issue.status} by {actor.username}",
    )


def approval_request_open(
    *,
    kind: str,
    actor,
    target_type: str,
    target_id: str,
    notify_kind: str,
    message: str,
    issue: OrderIssue | None = None,
    requested_status: str = "",
    payload: dict[str, Any] | None = None,
    reason: str = "",
    involved: Iterable[int | None] = (),
) -> ApprovalRequest:
    """A request for a manager's decision, and the managers told (never the requester).

    ``actor`` is the requester; ``involved`` names the other employees who made what is decided (an appeasement's
    creator and agent): like the requester, none of them may decide it (``approval_decide``).
    """
    approval = ApprovalRequest(
        kind=kind,
        issue=issue,
        target_type=target_type,
        target_id=target_id,
        requested_status=requested_status,
        payload=payload or {},
        reason=reason[:2000],
        requested_by=actor,
        involved=sorted({pk for pk in involved if pk is not None and pk != actor.pk}),
    )
    save_with_history(approval, actor=actor, reason=f"{approval.get_kind_display()} requested")
    event_emit("approval.requested", approval)
    notify(
        recipients=managers(),
        kind=notify_kind,
        issue=issue,
        approval=approval,
        exclude=actor,
        message=f"{acting_label(actor)} {message} ({approval.approval_id})",
    )
    return approval


def _approval_request_create(*, issue: OrderIssue, actor, kind: str, status: str, notes: str | None):
    what = "escalation" if kind == ApprovalKind.ESCALATION else "reopening"
    return approval_request_open(
        kind=kind,
        actor=actor,
        target_type=ISSUE_TARGET,
        target_id=issue.issue_id,
        issue=issue,
        requested_status=status,
        payload={"from_status": issue.status, "order_id": issue.order.order_id},
        reason=notes or "",
        notify_kind=NotificationKind.ESCALATION_REQUESTED
        if kind == ApprovalKind.ESCALATION
        else NotificationKind.REOPEN_REQUESTED,
        message=f"asks for the {what} of issue {issue.issue_id}" + (f": {notes}" if notes else ""),
    )


def _cancel_pending(*, issue: OrderIssue, actor, kind: str) -> None:
    """A manager applied the move directly: pending requests for it are settled (cancelled, with history)."""
    for approval in ApprovalRequest.objects.select_for_update(of=("self",)).filter(
        target_type=ISSUE_TARGET, target_id=issue.issue_id, kind=kind, state=ApprovalState.PENDING
    ):
        approval.cancel(by=actor, note=f"Applied directly by {actor.username}")
        save_with_history(approval, actor=actor, reason="Request cancelled: applied directly")


def issue_transition(*, issue: OrderIssue, actor, transition_name: str, notes: str = "") -> IssueUpdateResult:
    """Apply the named transition (admin buttons) through :func:`issue_update`."""
    fresh = OrderIssue.objects.select_related("order").get(pk=issue.pk)
    transition = next((t for t in fresh.get_available_status_transitions() if t.name == transition_name), None)
    if transition is None:
        raise InvalidStatusTransition(
            f"'{transition_name}' is not possible from {fresh.status}",
            current_status=fresh.status,
            allowed_transitions=allowed_statuses(fresh),
        )
    changes: dict[str, Any] = {"status": transition.target}
    if notes:
        changes["notes"] = notes
    return issue_update(
        order_id=fresh.order.order_id, issue_id=fresh.issue_id, actor=actor, changes=changes, channel=NoteChannel.ADMIN
    )


@transaction.atomic
def issue_note_add(
    *, issue: OrderIssue, actor, body: str, kind: str = NoteKind.INTERNAL, channel: str = NoteChannel.ADMIN
) -> IssueNote:
    if not body or not body.strip():
        raise ValidationFailed.single("notes", "Cannot be empty")
    if len(body) > NOTES_MAX:
        raise ValidationFailed.single("notes", f"Must be at most {NOTES_MAX} characters")
    locked = OrderIssue.objects.select_for_update(of=("self",)).get(pk=issue.pk)
    note = _add_note(issue=locked, actor=actor, body=body, kind=kind, channel=channel)
    reason = "Note added"  # the notes are part of the issue's representation: its revision (ETag) moves
    if locked.first_response_at is None:  # the first note after opening is the first response (SLA)
        now = timezone.now()
        if sla.finish(locked, now, responded=True, snapshot=sla.begin(locked, now)):
            reason = "First response"
    _save_issue(locked, actor=actor, reason=reason)
    issue.first_response_at, issue.revision = locked.first_response_at, locked.revision
    return note


# --------------------------------------------------------------------------- approvals


@transaction.atomic
def approval_decide(*, approval_id: str, actor, approve: bool, note: str) -> ApprovalRequest:
    """A manager (never the requester) approves or rejects a pending request.

    Approving an issue request applies its transition now, or answers 409 if it is no longer legal.
    """
    approval = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("requested_by")
        .filter(approval_id=approval_id)
        .first()
    )
    if approval is None:
        raise NotFound("Approval request not found", approval_request_id=approval_id)
    refusal = own_credential_required(actor, "Deciding a request")
    if refusal is not None:
        raise refusal
    if not actor.has_perm(DECIDE_APPROVAL):
        raise PermissionDenied(f"Deciding requests needs the permission {DECIDE_APPROVAL}")
    if actor.pk == approval.requested_by_id:
        raise PermissionDenied("A request cannot be decided by the employee who made it (four-eyes rule)")
    if actor.pk in approval.involved_pks():
        raise PermissionDenied(
            f"{actor.get_username()} made what this request is about: another manager decides it (four-eyes rule)"
        )
    target_state = ApprovalState.APPROVED if approve else ApprovalState.REJECTED
    if approval.state != ApprovalState.PENDING:
        raise InvalidStatusTransition(
            f"The request is already {approval.state}",
            current_status=approval.state,
            requested_status=target_state,
            allowed_transitions=[],
        )
    if not note or not note.strip():
        raise ValidationFailed.single("note", "Cannot be empty")

    issue = None
    if approval.issue_id is not None:
        issue = OrderIssue.objects.select_for_update(of=("self",)).select_related("order").get(pk=approval.issue_id)
    handler = approvals.handler_for(approval)  # a request of another kind: its app registered what deciding does
    if handler is not None:
        handler(approval=approval, actor=actor, approve=approve, note=note)
    elif approval.target_type != ISSUE_TARGET:
        raise InvalidStatusTransition(f"Requests about {approval.target_type} cannot be decided here")
    elif approve and issue is not None and approval.requested_status:
        transition = find_transition(issue, approval.requested_status)
        if transition is None:
            raise InvalidStatusTransition(
                f"The issue can no longer move from {issue.status} to {approval.requested_status}",
                current_status=issue.status,
                requested_status=approval.requested_status,
                allowed_transitions=allowed_statuses(issue),
            )
        previous = issue.status
        now = timezone.now()
        sla_snapshot = sla.begin(issue, now)
        getattr(issue, transition.name)()
        sla.finish(issue, now, responded=True, snapshot=sla_snapshot)
        _save_issue(
            issue, actor=actor, reason=f"Status {previous} -> {issue.status}: {approval.kind} {approval.approval_id}"
        )
        event_emit("issue.status_changed", issue, extra={"from": previous, "to": issue.status})
    elif issue is not None and approval.target_type == ISSUE_TARGET:
        # its requests waiting (and the decision's note) are part of the issue's representation (an appeasement's
        # handler notes the issue itself, which moves it)
        _save_issue(issue, actor=actor, reason=f"Request {approval.approval_id} decided")
    if approve:
        approval.approve(by=actor, note=note)
    else:
        approval.reject(by=actor, note=note)
    try:
        save_with_history(approval, actor=actor, reason=f"Request {approval.state}")
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate() from exc
    event_emit("approval.decided", approval)
    if issue is not None and approval.target_type == ISSUE_TARGET:  # an appeasement's handler notes its own
        _add_note(
            issue=issue,
            actor=actor,
            body=f"{approval.get_kind_display()} request {approval.approval_id} {approval.state}: {note}",
            channel=NoteChannel.ADMIN,
        )
    notify(
        recipients=[approval.requested_by],
        kind=NotificationKind.REQUEST_APPROVED if approve else NotificationKind.REQUEST_REJECTED,
        issue=issue,
        approval=approval,
        exclude=actor,
        message=f"Your {approval.kind} request {approval.approval_id} was {approval.state} by {actor.username}: {note}",
    )
    return approval


@transaction.atomic
def approval_cancel(*, approval_id: str, actor, note: str = "") -> ApprovalRequest:
    """The requester (or a manager) withdraws a pending request."""
    approval = ApprovalRequest.objects.select_for_update(of=("self",)).filter(approval_id=approval_id).first()
    if approval is None:
        raise NotFound("Approval request not found", approval_request_id=approval_id)
    if approval.state != ApprovalState.PENDING:
        raise InvalidStatusTransition(
            f"The request is already {approval.state}",
            current_status=approval.state,
            requested_status=ApprovalState.CANCELLED,
            allowed_transitions=[],
        )
    cancel = next(t for t in approval.get_available_state_transitions() if t.name == "cancel")
    if not cancel.has_perm(approval, actor):
        raise PermissionDenied("Only the requester or a manager can cancel a request")
    approval.cancel(by=actor, note=note)
    save_with_history(approval, actor=actor, reason="Request cancelled")
    if approval.issue_id is not None:  # it leaves the issue's requests waiting: the issue's revision moves
        issue = OrderIssue.objects.select_for_update(of=("self",)).get(pk=approval.issue_id)
        _save_issue(issue, actor=actor, reason=f"Request {approval.approval_id} cancelled")
    return approval


def issue_get(*, order_id: str, issue_id: str) -> OrderIssue:
    """The issue of this order, or ORDER_NOT_FOUND / ISSUE_NOT_FOUND (an issue of another order is not found)."""
    issue = OrderIssue.objects.filter(issue_id=issue_id, order__order_id=order_id).first()
    if issue is None:
        order_get(order_id)  # ORDER_NOT_FOUND first; one query on the hot path, not two
        raise IssueNotFound(issue_id=issue_id, order_id=order_id)
    return issue


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
                    message=f"Follow-up due for issue {issue.issue_id} on order {issue.order.order_id}: {issue.title}",
                )
        except IntegrityError:  # another run sent it a moment ago
            continue
        sent += 1
    return sent


# --------------------------------------------------------------------------- refunds that failed


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
    from webhooks.services import NOTIFY_KIND

    notify(recipients=managers(administrators=True), kind=NOTIFY_KIND, message=message)
