"""The approval queue: requests for a manager's decision (escalations, reopenings, refunds over a limit, and what
other apps register in ``issues.approvals``), deciding them under the four-eyes rule, withdrawing them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition

from config.errors import ConcurrentUpdate, InvalidStatusTransition, NotFound, PermissionDenied, ValidationFailed
from config.history import save_with_history
from config.people import acting_label, managers, own_credential_required
from issues import approvals, sla
from issues.models import (
    DECIDE_APPROVAL,
    ApprovalKind,
    ApprovalRequest,
    ApprovalState,
    NoteChannel,
    NotificationKind,
    OrderIssue,
)
from issues.services.common import ISSUE_TARGET, allowed_statuses, find_transition, issue_save, note_add
from issues.services.notifications import notify
from webhooks.services import event_emit


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
    creator and agent): like the requester, none of them may decide it (:func:`approval_decide`).
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


def pending_request(*, issue: OrderIssue, kind: str) -> ApprovalRequest | None:
    """The request of this kind about the issue still waiting for a manager, if any."""
    return ApprovalRequest.objects.filter(
        target_type=ISSUE_TARGET, target_id=issue.issue_id, kind=kind, state=ApprovalState.PENDING
    ).first()


def status_request_open(*, issue: OrderIssue, actor, kind: str, status: str, notes: str | None) -> ApprovalRequest:
    """An escalation or reopening the actor may ask for but not apply: the managers decide it."""
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


def pending_requests_settle(*, issue: OrderIssue, actor, kind: str) -> None:
    """A manager applied the move directly: pending requests for it are settled (cancelled, with history)."""
    for approval in ApprovalRequest.objects.select_for_update(of=("self",)).filter(
        target_type=ISSUE_TARGET, target_id=issue.issue_id, kind=kind, state=ApprovalState.PENDING
    ):
        approval.cancel(by=actor, note=f"Applied directly by {actor.username}")
        save_with_history(approval, actor=actor, reason="Request cancelled: applied directly")


# --------------------------------------------------------------------------- deciding


@transaction.atomic
def approval_decide(*, approval_id: str, actor, approve: bool, note: str) -> ApprovalRequest:
    """A manager (never the requester, nor anyone who made what is decided) approves or rejects a pending request.

    Approving an issue's status request applies its transition now, or answers 409 if it is no longer legal;
    requests of other kinds are decided by the handler their app registered (``issues.approvals``).
    """
    approval = _approval_locked(approval_id)
    _check_decision(approval, actor=actor, approve=approve, note=note)
    issue = None
    if approval.issue_id is not None:
        issue = OrderIssue.objects.select_for_update(of=("self",)).select_related("order").get(pk=approval.issue_id)
    _decision_apply(approval, issue=issue, actor=actor, approve=approve, note=note)
    _decision_record(approval, actor=actor, approve=approve, note=note)
    _decision_tell(approval, issue=issue, actor=actor, approve=approve, note=note)
    return approval


def _approval_locked(approval_id: str) -> ApprovalRequest:
    approval = (
        ApprovalRequest.objects.select_for_update(of=("self",))
        .select_related("requested_by")
        .filter(approval_id=approval_id)
        .first()
    )
    if approval is None:
        raise NotFound("Approval request not found", approval_request_id=approval_id)
    return approval


def _check_decision(approval: ApprovalRequest, *, actor, approve: bool, note: str) -> None:
    """Who may decide (a manager with their own credential; four eyes), that it still waits, and the note."""
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
    if approval.state != ApprovalState.PENDING:
        raise InvalidStatusTransition(
            f"The request is already {approval.state}",
            current_status=approval.state,
            requested_status=ApprovalState.APPROVED if approve else ApprovalState.REJECTED,
            allowed_transitions=[],
        )
    if not note or not note.strip():
        raise ValidationFailed.single("note", "Cannot be empty")


def _decision_apply(approval: ApprovalRequest, *, issue: OrderIssue | None, actor, approve: bool, note: str) -> None:
    """What deciding does: the registered handler's work, or the issue's requested move (approved), or only the
    issue's revision moving (its requests waiting are part of its representation)."""
    handler = approvals.handler_for(approval)
    if handler is not None:
        handler(approval=approval, actor=actor, approve=approve, note=note)
    elif approval.target_type != ISSUE_TARGET:
        raise InvalidStatusTransition(f"Requests about {approval.target_type} cannot be decided here")
    elif approve and issue is not None and approval.requested_status:
        _requested_move_apply(approval, issue=issue, actor=actor)
    elif issue is not None:
        # an appeasement's handler notes the issue itself, which moves it
        issue_save(issue, actor=actor, reason=f"Request {approval.approval_id} decided")


def _requested_move_apply(approval: ApprovalRequest, *, issue: OrderIssue, actor) -> None:
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
    issue_save(
        issue, actor=actor, reason=f"Status {previous} -> {issue.status}: {approval.kind} {approval.approval_id}"
    )
    event_emit("issue.status_changed", issue, extra={"from": previous, "to": issue.status})


def _decision_record(approval: ApprovalRequest, *, actor, approve: bool, note: str) -> None:
    if approve:
        approval.approve(by=actor, note=note)
    else:
        approval.reject(by=actor, note=note)
    try:
        save_with_history(approval, actor=actor, reason=f"Request {approval.state}")
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate() from exc
    event_emit("approval.decided", approval)


def _decision_tell(approval: ApprovalRequest, *, issue: OrderIssue | None, actor, approve: bool, note: str) -> None:
    """The issue's timeline (an appeasement's handler notes its own) and the requester hear the decision."""
    if issue is not None and approval.target_type == ISSUE_TARGET:
        note_add(
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
        message=(
            f"Your request {approval.approval_id} ({approval.get_kind_display()}) was "
            f"{approval.get_state_display().lower()} by {actor.username}: {note}"
        ),
    )


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
        issue_save(issue, actor=actor, reason=f"Request {approval.approval_id} cancelled")
    return approval
