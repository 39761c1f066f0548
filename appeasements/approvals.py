"""The bridge to the managers' approval queue and notifications of the issues work (docs/architecture.md).

An over-policy submit opens an :class:`issues.models.ApprovalRequest` of kind ``appeasement``; the
queue's ``approval_decide`` (four-eyes) calls ``appeasements.services.appeasement_decided`` back (registered in
``AppeasementsConfig.ready``), which approves (submits through the ledger) or rejects the appeasement.
Notifications go through ``issues.services.notify``. This module imports no other module of its app but its
errors: the services call it, never the reverse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from appeasements.errors import WrongState

if TYPE_CHECKING:
    from appeasements.models import Appeasement

APPROVAL_KIND = "appeasement"
TARGET_TYPE = "appeasement"
NOTIFY_REQUESTED = "appeasement_requested"
NOTIFY_SUBMITTED = "appeasement_submitted"


def approval_request_open(*, appeasement: Appeasement, actor, why: str):
    """Put the appeasement in the managers' queue and tell them. Its creator and agent, like ``actor`` (who
    submitted it), may not decide it."""
    from issues.services import approval_request_open as open_request

    total = sum(r.amount for r in appeasement.refunds.all())
    currency = appeasement.order.currency
    approval = open_request(
        kind=APPROVAL_KIND,
        actor=actor,
        target_type=TARGET_TYPE,
        target_id=appeasement.appeasement_id,
        issue=appeasement.issue,
        requested_status="SUBMITTED",
        payload={
            "order_id": appeasement.order.order_id,
            "amount": str(total),
            "currency": currency,
            "reason": appeasement.reason.code,
            "policy": why,
        },
        reason=f"Over policy: {why}",
        involved=[appeasement.created_by_id, appeasement.agent_id],
        notify_kind=NOTIFY_REQUESTED,
        message=(
            f"asks to approve appeasement {appeasement.appeasement_id} of {total} {currency} on order "
            f"{appeasement.order.order_id}: {why}"
        ),
    )
    _issue_note(
        appeasement,
        actor,
        f"Appeasement {appeasement.appeasement_id} of {total} "
        f"{currency} awaits a manager's approval ({approval.approval_id}): {why}",
    )
    return approval


def pending_approval_for(appeasement: Appeasement):
    from issues.models import ApprovalRequest, ApprovalState

    return ApprovalRequest.objects.filter(
        target_type=TARGET_TYPE, target_id=appeasement.appeasement_id, kind=APPROVAL_KIND, state=ApprovalState.PENDING
    ).first()


def appeasement_decide(*, appeasement: Appeasement, actor, approve: bool, note: str):
    """Admin buttons: decide the appeasement's pending request through the approval queue (one write path,
    four-eyes included)."""
    from issues.services import approval_decide

    approval = pending_approval_for(appeasement)
    if approval is None:
        raise WrongState(
            f"Appeasement {appeasement.appeasement_id} has no pending approval request",
            current_state=appeasement.state,
        )
    return approval_decide(approval_id=approval.approval_id, actor=actor, approve=approve, note=note)


def appeasement_submitted(*, appeasement: Appeasement, actor) -> None:
    """Tell the agent (when someone else submitted it) and note it on the issue it settles."""
    from issues.services import notify

    total = sum(r.amount for r in appeasement.refunds.all())
    message = (
        f"Appeasement {appeasement.appeasement_id} of {total} {appeasement.order.currency} on order "
        f"{appeasement.order.order_id} was submitted by {actor.username}"
    )
    notify(
        recipients=[appeasement.agent], kind=NOTIFY_SUBMITTED, issue=appeasement.issue, exclude=actor, message=message
    )
    _issue_note(appeasement, actor, message)
    from issues.services import notify_customer

    notify_customer(
        email=appeasement.order.customer_email,
        kind="customer_appeasement",
        issue=appeasement.issue,
        actor=actor,
        message=(
            f"Dear {appeasement.order.customer_first_name or 'customer'}, we are sorry about your order "
            f"{appeasement.order.order_id}. We have credited you {total} {appeasement.order.currency} as a goodwill "
            "gesture; it will appear on your original payment method or store credit shortly."
        ),
    )


def appeasement_rejected(*, appeasement: Appeasement, actor, note: str) -> None:
    _issue_note(
        appeasement, actor, f"Appeasement {appeasement.appeasement_id} was rejected by {actor.username}: {note}"
    )


def _issue_note(appeasement: Appeasement, actor, body: str) -> None:
    """The issue an appeasement settles shows its progress in its communication log."""
    if appeasement.issue_id is None:
        return
    from issues.services import issue_note_add

    issue_note_add(issue=appeasement.issue, actor=actor, body=body[:2000])
