"""Updating an issue (the issue update contract, docs/api/backoffice.md): one change, in four steps.

:func:`issue_update` reads the sent fields into an :class:`IssueChange`, then

1. **validates** every field rule that needs the issue (one VALIDATION_ERROR listing every problem);
2. **routes the status move**: legal from here, allowed to this actor, applied now or asked of a manager;
3. **applies** the note, the fields, the move and the refund (or the refund request), and saves the issue once;
4. **tells**: approval requests, webhook events and notifications (e-mailed after commit).

It is one transaction: a refused update changes nothing (no field, note, refund, request or history row).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.errors import Duplicate, InvalidStatusTransition, PermissionDenied, ValidationFailed
from config.people import own_credential_required
from issues import refund_requests, sla
from issues.models import (
    PRIORITY_RANK,
    ApprovalKind,
    ApprovalRequest,
    IssueNote,
    IssuePriority,
    IssueStatus,
    NoteChannel,
    NoteKind,
    OrderIssue,
)
from issues.services.common import (
    NOTES_MAX,
    allowed_statuses,
    assignable_employee,
    find_transition,
    issue_locked,
    issue_save,
    note_add,
)
from issues.services.notifications import issue_assigned_notify, issue_critical_notify, issue_outcome_notify
from issues.services.requests import pending_request, pending_requests_settle, status_request_open
from orders.models import Refund, RefundCause
from webhooks.services import event_emit

NOTES_REQUIRED_FOR = (IssueStatus.RESOLVED, IssueStatus.CLOSED)
PLAIN_FIELDS = ("resolution_description", "customer_satisfied", "follow_up_required", "follow_up_date")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()


@dataclass(frozen=True)
class IssueChange:
    """The fields a caller sent, in the order ``updated_fields`` lists them; a field not sent is ``UNSET`` (sending
    ``null`` is not the same: it clears ``assigned_to``, and is refused for ``notes``)."""

    notes: Any = UNSET
    priority: Any = UNSET
    status: Any = UNSET
    refund_amount: Any = UNSET
    refund_source: Any = UNSET
    resolution_description: Any = UNSET
    customer_satisfied: Any = UNSET
    follow_up_required: Any = UNSET
    follow_up_date: Any = UNSET
    assigned_to: Any = UNSET

    @classmethod
    def of(cls, changes: Mapping[str, Any] | IssueChange) -> IssueChange:
        if isinstance(changes, IssueChange):
            return changes
        unknown = set(changes) - set(FIELD_ORDER)
        if unknown:
            raise ValueError(f"Not fields of an issue update: {', '.join(sorted(unknown))}")
        return cls(**changes)

    def sent(self, name: str) -> bool:
        return getattr(self, name) is not UNSET

    def value(self, name: str) -> Any:
        """The sent value, or None when the field was not sent."""
        found = getattr(self, name)
        return None if found is UNSET else found


FIELD_ORDER = tuple(f.name for f in fields(IssueChange))


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


@dataclass(frozen=True)
class StatusMove:
    """Where the status goes: ``transition`` applied now, or (``approval_kind`` set) asked of a manager."""

    requested: str | None = None
    transition: Any = None
    approval_kind: str | None = None

    @property
    def now(self) -> bool:
        return self.transition is not None and self.approval_kind is None


@dataclass
class Applied:
    """What step 3 changed, for step 4 and the answer."""

    previous_status: str
    previous_priority: str
    updated: list[str] = field(default_factory=list)
    refund: Refund | None = None
    refund_request: ApprovalRequest | None = None


@transaction.atomic
def issue_update(
    *,
    order_id: str,
    issue_id: str,
    actor,
    changes: Mapping[str, Any] | IssueChange,
    channel: str = NoteChannel.API,
) -> IssueUpdateResult:
    """Update an issue. ``changes`` holds only the fields the caller sent (no ``updated_by``).

    An escalation or reopening by someone without the permission to apply it directly applies every other
    change and creates a pending :class:`ApprovalRequest` instead of moving the status.
    """
    issue = issue_locked(order_id=order_id, issue_id=issue_id)
    return issue_update_locked(issue=issue, actor=actor, changes=changes, channel=channel)


def issue_update_locked(
    *, issue: OrderIssue, actor, changes: Mapping[str, Any] | IssueChange, channel: str = NoteChannel.API
) -> IssueUpdateResult:
    """:func:`issue_update` for a caller that read ``issue`` with :func:`issues.services.common.issue_locked` in
    its open transaction, and runs in it (the API answers not-found before validating the body, then updates the
    row it read: one read, no savepoint). A refused update raises, and the caller's transaction rolls back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("issue_update_locked runs inside the transaction that locked the issue")
    change = IssueChange.of(changes)
    now = timezone.now()
    _validate(issue, change, now)
    move = _route_status(issue, change, actor)
    applied = _apply(issue, change, move, actor=actor, channel=channel, now=now)
    approvals = _tell(issue, change, move, applied, actor=actor)
    return IssueUpdateResult(
        issue=issue,
        updated_fields=applied.updated,
        previous_status=applied.previous_status,
        new_status=issue.status,
        refund=applied.refund,
        approval=approvals[0] if approvals else None,
        timestamp=now,
        approvals=approvals,
    )


# --------------------------------------------------------------------------- 1. validate


def _validate(issue: OrderIssue, change: IssueChange, now: datetime) -> None:
    """Every field rule of the contract that needs the issue; one VALIDATION_ERROR listing every problem."""
    errors = [
        *_notes_errors(change),
        *_status_errors(issue, change),
        *_priority_errors(issue, change),
        *_refund_errors(change),
        *_follow_up_errors(issue, change, now),
    ]
    if change.value("assigned_to") and assignable_employee(change.assigned_to) is None:
        errors.append({"field": "assigned_to", "error": "Must be an active agent or manager"})
    if errors:
        raise ValidationFailed(errors)


def _notes_errors(change: IssueChange) -> list[dict[str, str]]:
    if not change.sent("notes"):
        return []
    notes = change.notes
    if notes is None or not notes.strip():
        return [{"field": "notes", "error": "Cannot be empty"}]
    if len(notes) > NOTES_MAX:
        return [{"field": "notes", "error": f"Must be at most {NOTES_MAX} characters"}]
    return []


def _status_errors(issue: OrderIssue, change: IssueChange) -> list[dict[str, str]]:
    status = change.value("status")
    if status is not None and status not in IssueStatus.values:
        return [{"field": "status", "error": f"Must be one of: {', '.join(IssueStatus.values)}"}]
    if status in NOTES_REQUIRED_FOR and status != issue.status and not change.sent("notes"):
        return [{"field": "notes", "error": f"Required when changing status to {status}"}]
    return []


def _priority_errors(issue: OrderIssue, change: IssueChange) -> list[dict[str, str]]:
    priority = change.value("priority")
    if priority is None:
        return []
    if priority not in IssuePriority.values:
        return [{"field": "priority", "error": f"Must be one of: {', '.join(IssuePriority.values)}"}]
    if PRIORITY_RANK[priority] > PRIORITY_RANK[issue.priority] and not change.sent("notes"):
        return [{"field": "notes", "error": "Required to justify raising the priority"}]
    return []


def _refund_errors(change: IssueChange) -> list[dict[str, str]]:
    errors = []
    amount, source = change.value("refund_amount"), change.value("refund_source")
    if amount is not None and Decimal(amount) <= 0:
        errors.append({"field": "refund_amount", "error": "Must be a positive number"})
    if amount is not None and not source:
        errors.append({"field": "refund_source", "error": "Required when refund_amount is specified"})
    if source and amount is None:
        errors.append({"field": "refund_amount", "error": "Required when refund_source is specified"})
    return errors


def _follow_up_errors(issue: OrderIssue, change: IssueChange, now: datetime) -> list[dict[str, str]]:
    errors = []
    date = change.value("follow_up_date")
    if date is not None and date <= now:
        errors.append({"field": "follow_up_date", "error": "Must be in the future"})
    if change.value("follow_up_required") is True and date is None:
        if not (issue.follow_up_date and issue.follow_up_date > now):
            errors.append({"field": "follow_up_date", "error": "Required when follow_up_required is true"})
    return errors


# --------------------------------------------------------------------------- 2. route the status move


def _route_status(issue: OrderIssue, change: IssueChange, actor) -> StatusMove:
    """The status move: legal from here (else 409), allowed to the actor (else 403), applied now or requested
    (409 DUPLICATE when the same request already waits)."""
    requested = change.value("status")
    if requested is None or requested == issue.status:
        return StatusMove()
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
    if not direct_permission or actor.has_perm(direct_permission):
        return StatusMove(requested=requested, transition=transition)
    approval_kind = transition.custom["approval_kind"]
    pending = pending_request(issue=issue, kind=approval_kind)
    if pending is not None:
        raise Duplicate(
            f"A {approval_kind} request for this issue is already waiting for a manager",
            approval_request_id=pending.approval_id,
        )
    return StatusMove(requested=requested, transition=transition, approval_kind=approval_kind)


# --------------------------------------------------------------------------- 3. apply


def _apply(issue: OrderIssue, change: IssueChange, move: StatusMove, *, actor, channel: str, now) -> Applied:
    applied = Applied(previous_status=issue.status, previous_priority=issue.priority)
    sla_snapshot = sla.begin(issue, now)
    if change.notes:
        note_add(issue=issue, actor=actor, body=change.notes, channel=channel)
        applied.updated.append("notes")
    _fields_apply(issue, change, move, applied)
    if change.value("refund_amount") is not None:
        _refund_apply(issue, change, applied, actor=actor)
    applied.updated.sort(key=FIELD_ORDER.index)
    _save(issue, applied, move, actor=actor, now=now, sla_snapshot=sla_snapshot)
    return applied


def _fields_apply(issue: OrderIssue, change: IssueChange, move: StatusMove, applied: Applied) -> None:
    if change.priority and change.priority != issue.priority:
        issue.priority = change.priority
        applied.updated.append("priority")
    if move.now:
        getattr(issue, move.transition.name)()
        applied.updated.append("status")
    for name in PLAIN_FIELDS:
        if change.sent(name) and getattr(issue, name) != getattr(change, name):
            setattr(issue, name, getattr(change, name))
            applied.updated.append(name)
    if change.sent("assigned_to"):
        assignee = assignable_employee(change.assigned_to) if change.assigned_to else None
        if assignee != issue.assigned_to:
            issue.assigned_to = assignee
            applied.updated.append("assigned_to")


def _refund_apply(issue: OrderIssue, change: IssueChange, applied: Applied, *, actor) -> None:
    """The refund, recorded within the actor's limit; over it, a refund request for a manager."""
    outcome = refund_requests.refund_or_request(
        order=issue.order,
        actor=actor,
        amount=change.refund_amount,
        source=change.refund_source,
        cause_type=RefundCause.ISSUE,
        cause_id=issue.issue_id,
        reason=(change.notes or f"Issue {issue.issue_id}")[:255],
        issue=issue,
    )
    if isinstance(outcome, Refund):
        applied.refund = outcome
        applied.updated += ["refund_amount", "refund_source"]
    else:
        applied.refund_request = outcome


def _save(issue: OrderIssue, applied: Applied, move: StatusMove, *, actor, now, sla_snapshot) -> None:
    """One save, one history row saying why. What else the issue's representation shows (its notes, refunds,
    requests waiting) moves its revision too."""
    updated = applied.updated
    issue_fields = [f for f in updated if f not in ("notes", "refund_amount", "refund_source")]
    responded = sla.finish(issue, now, responded="notes" in updated or "status" in updated, snapshot=sla_snapshot)
    shown = [
        what
        for what, happened in (
            ("note", "notes" in updated),
            ("refund", applied.refund is not None or applied.refund_request is not None),
            ("request", move.approval_kind is not None),
        )
        if happened
    ]
    if issue_fields:
        reason = f"Status {applied.previous_status} -> {issue.status}" if "status" in issue_fields else "Issue updated"
        issue_save(issue, actor=actor, reason=f"{reason}: {', '.join(issue_fields)}")
    elif responded:
        issue_save(issue, actor=actor, reason="First response")
    elif shown:
        issue_save(issue, actor=actor, reason=f"Added: {', '.join(shown)}")


# --------------------------------------------------------------------------- 4. tell


def _tell(
    issue: OrderIssue, change: IssueChange, move: StatusMove, applied: Applied, *, actor
) -> tuple[ApprovalRequest, ...]:
    """Requests for a manager, webhook events, notifications. Returns the requests opened."""
    updated = applied.updated
    approval = None
    if move.approval_kind is not None:
        approval = status_request_open(
            issue=issue, actor=actor, kind=move.approval_kind, status=move.requested, notes=change.value("notes")
        )
    elif move.transition is not None and move.transition.custom.get("approval_kind"):
        pending_requests_settle(issue=issue, actor=actor, kind=move.transition.custom["approval_kind"])
    if "status" in updated:
        event_emit("issue.status_changed", issue, extra={"from": applied.previous_status, "to": issue.status})
    if "assigned_to" in updated:
        event_emit("issue.assigned", issue)

    if "priority" in updated and issue.priority == IssuePriority.CRITICAL:
        if applied.previous_priority != IssuePriority.CRITICAL:
            issue_critical_notify(issue=issue, actor=actor)
    if "assigned_to" in updated and issue.assigned_to is not None:
        issue_assigned_notify(issue=issue, actor=actor)
    if "status" in updated and issue.status in (IssueStatus.RESOLVED, IssueStatus.CLOSED):
        issue_outcome_notify(issue=issue, actor=actor)
    return tuple(a for a in (approval, applied.refund_request) if a is not None)


# --------------------------------------------------------------------------- the admin's buttons and notes


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
    change = IssueChange(status=transition.target, notes=notes or UNSET)
    return issue_update(
        order_id=fresh.order.order_id, issue_id=fresh.issue_id, actor=actor, changes=change, channel=NoteChannel.ADMIN
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
    note = note_add(issue=locked, actor=actor, body=body, kind=kind, channel=channel)
    reason = "Note added"  # the notes are part of the issue's representation: its revision (ETag) moves
    if locked.first_response_at is None:  # the first note after opening is the first response (SLA)
        now = timezone.now()
        if sla.finish(locked, now, responded=True, snapshot=sla.begin(locked, now)):
            reason = "First response"
    issue_save(locked, actor=actor, reason=reason)
    issue.first_response_at, issue.revision = locked.first_response_at, locked.revision
    return note
