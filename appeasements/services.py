"""Every write to appeasements. The ccagent API, the admin and the approval queue call these.

Rules checked on create, update and submit (ccagent codes in brackets, docs/api/ccagent.md):
the order exists [13001], is appeasable (not pending/canceled) [900036], every refund's currency is the
order's [13001], every ``refundType`` is known [900017], ``creditCard`` names one of the order's payment
groups [13001], amounts are positive [13001] and the appeasement with what is already refunded stays
within what was paid [13001]; submitting goes through ``orders.services.refund_record`` under the order
lock, so appeasements and issue refunds share one ledger limit. ``agentId`` is the caller unless the
caller is a service account acting for a granted employee. Only the appeasement's agent or a manager (with their
own credential) may change, submit or delete it. Over policy (a share of the order total, or the submitter's
refund limit on the order, ``orders.refund_policy``) a submit goes to ``PENDING_APPROVAL`` and the managers'
approval queue, where nobody who created, owns or submitted it may decide it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition
from django_tasks import task, task_backends

from appeasements import approvals
from appeasements.errors import (
    AppeasementNotFound,
    InvalidInput,
    InvalidRefundType,
    WrongState,
)
from appeasements.models import (
    Appeasement,
    AppeasementComment,
    AppeasementOrigin,
    AppeasementReason,
    AppeasementRefund,
    AppeasementRefundState,
    AppeasementState,
    AppeasementType,
    RefundType,
    can_change,
)
from appeasements.selectors import NOT_APPEASABLE_ORDER_STATUSES, refund_state
from config.errors import ConcurrentUpdate, PermissionDenied
from config.history import save_with_history, stamp
from config.people import employee_role, is_service, own_credential_required, resolve_actor
from config.permissions import MANAGER
from config.tasks import enqueue_after_commit
from orders import ledger
from orders.models import ZERO, Order, Payment, RefundCause, RefundStatus
from orders.refund_policy import limit_breach
from orders.services import refund_record
from webhooks.services import event_emit

logger = logging.getLogger(__name__)
NOTES_MAX = 4000
COMMENT_MAX = 4000
SYNC_RETRY_AFTER = timedelta(minutes=1)  # a refund still being processed is looked at again (for an hour)
SYNC_RETRIES = 60


# --------------------------------------------------------------------------- inputs


@dataclass
class RefundInput:
    refund_type: str
    amount: Decimal
    id: str | None = None
    currency_code: str | None = None
    payment_group_id: str | None = None

    @classmethod
    def of_row(cls, row: AppeasementRefund) -> RefundInput:
        """A saved refund as input again (checked anew against an order)."""
        return cls(
            id=row.refund_id,
            refund_type=row.refund_type.code,
            amount=row.amount,
            currency_code=row.currency_code,
            payment_group_id=row.payment_group_id or None,
        )


@dataclass
class CommentInput:
    comment: str
    id: int | None = None
    agent_id: str | None = None


@dataclass
class AppeasementInput:
    """What a request gives; ``None`` means "not given" (unchanged on update)."""

    order_id: str | None = None
    profile_id: str | None = None
    agent_id: str | None = None
    reason: str | None = None
    type: str | None = None
    notes: str | None = None
    issue_id: str | None = None
    refunds: list[RefundInput] | None = None
    comments: list[CommentInput] | None = None
    state: str | None = None
    given: set[str] = field(default_factory=set)


# --------------------------------------------------------------------------- reads


def appeasement_get(appeasement_id: str, *, for_update: bool = False) -> Appeasement:
    qs = Appeasement.objects.select_for_update(of=("self",)) if for_update else Appeasement.objects
    appeasement = qs.select_related("order", "agent", "reason").filter(appeasement_id=appeasement_id).first()
    if appeasement is None:
        raise AppeasementNotFound(f"Appeasement '{appeasement_id}' not found", field="id")
    return appeasement


def _check_owner(appeasement: Appeasement, actor, what: str) -> None:
    """Only the appeasement's agent, or a manager with their own credential, may change, submit or delete it."""
    if can_change(appeasement, actor):
        return
    owner = appeasement.agent.get_username()
    if employee_role(actor) == MANAGER:
        refusal = own_credential_required(actor, f"To {what} {owner}'s appeasement")
        if refusal is not None:
            raise refusal
    raise PermissionDenied(
        f"Appeasement {appeasement.appeasement_id} is {owner}'s: only its agent or a manager may {what} it",
        field="agentId",
        agent_id=owner,
    )


# --------------------------------------------------------------------------- validation


def appeasement_order_get(order_id: str | None) -> Order:
    """The order an appeasement is for: an unknown ``orderId`` in a body is invalid input (13001)."""
    if not order_id:
        raise InvalidInput.single("orderId", "This field is required")
    order = Order.objects.filter(order_id=order_id).first()
    if order is None:
        raise InvalidInput.single("orderId", f"Unknown order '{order_id}'")
    return order


def _check_order_appeasable(order: Order) -> None:
    if order.status in NOT_APPEASABLE_ORDER_STATUSES:
        raise WrongState(
            f"Order {order.order_id} is {order.status} and cannot be appeased",
            field="orderId",
            current_state=order.status,
        )


def _reason_for(code: str | None) -> AppeasementReason:
    if not code:
        raise InvalidInput.single("reason", "This field is required")
    reason = AppeasementReason.objects.filter(code=code, active=True).first()
    if reason is None:
        raise InvalidInput.single("reason", f"Unknown reason code '{code}'")
    return reason


@dataclass
class _ResolvedRefund:
    input: RefundInput
    refund_type: RefundType
    payment: Payment | None
    currency: str


def _resolve_refunds(order: Order, refunds: list[RefundInput]) -> list[_ResolvedRefund]:
    """Refund types first (900017), then every other problem at once (13001)."""
    types = {t.code: t for t in RefundType.objects.filter(active=True, code__in=[r.refund_type for r in refunds])}
    bad_types = [
        {"field": f"appeasementRefunds[{i}].refundType", "error": f"Unknown refund type '{r.refund_type}'"}
        for i, r in enumerate(refunds)
        if r.refund_type not in types
    ]
    if bad_types:
        raise InvalidRefundType(bad_types, message="Invalid refund type")
    payments = {p.payment_group_id: p for p in order.payments.all()}
    errors: list[dict[str, str]] = []
    resolved: list[_ResolvedRefund] = []
    seen_ids: set[str] = set()
    for i, r in enumerate(refunds):
        where = f"appeasementRefunds[{i}]"
        rtype = types[r.refund_type]
        if r.id:
            if r.id in seen_ids:
                errors.append({"field": f"{where}.id", "error": f"Refund '{r.id}' is listed twice"})
            seen_ids.add(r.id)
        try:
            amount = Decimal(r.amount)
        except (InvalidOperation, TypeError, ValueError):
            amount = None
        if amount is None or not amount.is_finite() or amount <= ZERO:
            errors.append({"field": f"{where}.amount", "error": "Must be a positive amount"})
        elif amount != amount.quantize(ledger.CENT):
            errors.append({"field": f"{where}.amount", "error": "Must have at most two decimal places"})
        currency = r.currency_code or order.currency
        if currency != order.currency:
            errors.append(
                {
                    "field": f"{where}.currencyCode",
                    "error": f"Must be the order's currency {order.currency}, not {currency}",
                }
            )
        payment = None
        if r.payment_group_id:
            payment = payments.get(r.payment_group_id)
            if payment is None:
                errors.append(
                    {
                        "field": f"{where}.paymentGroupId",
                        "error": f"'{r.payment_group_id}' is not a payment group of order {order.order_id}",
                    }
                )
        elif rtype.requires_payment_group:
            errors.append({"field": f"{where}.paymentGroupId", "error": f"Required for refund type {rtype.code}"})
        resolved.append(_ResolvedRefund(input=r, refund_type=rtype, payment=payment, currency=currency))
    if errors:
        raise InvalidInput(errors)
    return resolved


def _check_within_paid(order: Order, total: Decimal) -> Decimal:
    """The appeasement plus what is already refunded never passes what was paid. Returns the refundable."""
    money = ledger.order_money(order)
    refundable = money.refundable
    if total > refundable:
        raise InvalidInput(
            [
                {
                    "field": "appeasementRefunds",
                    "error": f"The total {total} exceeds the refundable amount {refundable} {order.currency} "
                    f"of order {order.order_id} (paid {money.paid}, already refunded {money.refunded})",
                }
            ],
            message="Appeasement exceeds the refundable amount",
            refundable_amount=refundable,
        )
    return refundable


def _issue_for(order: Order, issue_id: str | None):
    if not issue_id:
        return None
    from issues.models import OrderIssue

    issue = OrderIssue.objects.filter(issue_id=issue_id, order=order).first()
    if issue is None:
        raise InvalidInput.single("issueId", f"Unknown issue '{issue_id}' on order {order.order_id}")
    return issue


def _profile_for(order: Order, profile_id: str | None) -> str:
    profile = profile_id if profile_id else order.customer_id
    if not profile:
        raise InvalidInput.single("profileId", "This field is required")
    if order.customer_id and profile != order.customer_id:
        raise InvalidInput.single("profileId", f"Order {order.order_id} belongs to another customer")
    return profile


def _validate_notes(notes: str | None) -> None:
    if notes is not None and len(notes) > NOTES_MAX:
        raise InvalidInput.single("notes", f"Must be at most {NOTES_MAX} characters")


def _type_for(value: str | None) -> str:
    if value is None:
        return AppeasementType.ORDER
    if value not in AppeasementType.values:
        raise InvalidInput.single("type", f"Must be one of {', '.join(AppeasementType.values)}")
    return value


# --------------------------------------------------------------------------- writes: refunds and comments


def _save_refunds(appeasement: Appeasement, resolved: list[_ResolvedRefund], *, actor) -> bool:
    """The seed's replacement rule: with an ``id`` updates that refund, without one creates a refund, and
    refunds not in the list are removed. Returns whether any refund was added, changed or removed."""
    existing = {r.refund_id: r for r in appeasement.refunds.all()}
    errors = [
        {"field": f"appeasementRefunds[{i}].id", "error": f"Unknown appeasement refund '{r.input.id}'"}
        for i, r in enumerate(resolved)
        if r.input.id and r.input.id not in existing
    ]
    if errors:
        raise InvalidInput(errors)
    keep = {r.input.id for r in resolved if r.input.id}
    touched = False
    for refund_id, row in existing.items():
        if refund_id not in keep:
            stamp(row, actor=actor, reason="Refund removed (not in the update)")
            row.delete()
            touched = True
    for r in resolved:
        row = existing[r.input.id] if r.input.id else AppeasementRefund(appeasement=appeasement)
        values = {
            "refund_type": r.refund_type,
            "payment_group_id": r.input.payment_group_id or "",
            "payment": r.payment,
            "amount": Decimal(r.input.amount).quantize(ledger.CENT),
            "currency_code": r.currency,
        }
        changed = row.pk is None or any(getattr(row, k) != v for k, v in values.items())
        if changed:
            for k, v in values.items():
                setattr(row, k, v)
            save_with_history(row, actor=actor, reason="Refund added" if row.pk is None else "Refund changed")
            touched = True
    return touched


def _add_comments(appeasement: Appeasement, comments: list[CommentInput], *, caller) -> int:
    """Append-only: comments with an ``id`` must match existing ones, the others are added (their count)."""
    existing = {c.comment_id: c for c in appeasement.comments.select_related("agent")}
    errors: list[dict[str, str]] = []
    new: list[tuple[int, CommentInput]] = []
    for i, c in enumerate(comments):
        where = f"comments[{i}]"
        if c.id is not None:
            row = existing.get(c.id)
            if row is None:
                errors.append({"field": f"{where}.id", "error": f"Unknown comment {c.id}"})
            elif row.comment != c.comment or (c.agent_id and c.agent_id != row.agent.username):
                errors.append({"field": f"{where}.id", "error": "Comments cannot be changed (append-only)"})
            continue
        if not c.comment or not c.comment.strip():
            errors.append({"field": f"{where}.comment", "error": "Cannot be empty"})
        elif len(c.comment) > COMMENT_MAX:
            errors.append({"field": f"{where}.comment", "error": f"Must be at most {COMMENT_MAX} characters"})
        else:
            new.append((i, c))
    if errors:
        raise InvalidInput(errors)
    for i, c in new:
        author = resolve_actor(user=caller, employee_id=c.agent_id, field=f"comments[{i}].agentId")
        row = AppeasementComment(appeasement=appeasement, agent=author, comment=c.comment)
        save_with_history(row, actor=author, reason="Comment added")
    return len(new)


def _save(appeasement: Appeasement, *, actor, reason: str) -> None:
    if appeasement.pk is not None:
        appeasement.revision += 1
    try:
        save_with_history(appeasement, actor=actor, reason=reason)
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate() from exc


# --------------------------------------------------------------------------- create / update / delete


@transaction.atomic
def appeasement_create(*, caller, data: AppeasementInput) -> Appeasement:
    """A new ``INCOMPLETE`` appeasement (``submit`` in the input submits it at once)."""
    agent = resolve_actor(user=caller, employee_id=data.agent_id, field="agentId")
    order = appeasement_order_get(data.order_id)
    _check_order_appeasable(order)
    reason = _reason_for(data.reason)
    kind = _type_for(data.type)
    profile = _profile_for(order, data.profile_id)
    issue = _issue_for(order, data.issue_id)
    _validate_notes(data.notes)
    resolved = _resolve_refunds(order, data.refunds or [])
    _check_within_paid(order, sum((Decimal(r.input.amount) for r in resolved), ZERO))
    if data.state not in (None, AppeasementState.INCOMPLETE, AppeasementState.SUBMITTED):
        raise InvalidInput.single("state", "A new appeasement is INCOMPLETE, or SUBMITTED to submit it at once")
    if any(r.id for r in data.refunds or []):
        raise InvalidInput.single("appeasementRefunds", "A new appeasement's refunds cannot carry an id")
    if any(c.id is not None for c in data.comments or []):
        raise InvalidInput.single("comments", "A new appeasement's comments cannot carry an id")
    appeasement = Appeasement(
        order=order,
        issue=issue,
        profile_id=profile,
        agent=agent,
        created_by=agent,
        reason=reason,
        type=kind,
        notes=data.notes or "",
        origin=AppeasementOrigin.EXTERNAL if is_service(caller) else AppeasementOrigin.AGENT,
    )
    _save(appeasement, actor=agent, reason="Appeasement created")
    _save_refunds(appeasement, resolved, actor=agent)
    _add_comments(appeasement, data.comments or [], caller=caller)
    event_emit("appeasement.created", appeasement)
    if data.state == AppeasementState.SUBMITTED:
        _submit(appeasement, actor=agent)
    return appeasement


def _frozen_changes(appeasement: Appeasement, data: AppeasementInput) -> list[str]:
    """Fields of ``data`` that would change a submitted (or pending/rejected) appeasement."""
    changed: list[str] = []
    if data.order_id is not None and data.order_id != appeasement.order.order_id:
        changed.append("orderId")
    if data.profile_id is not None and data.profile_id != appeasement.profile_id:
        changed.append("profileId")
    if data.agent_id is not None and data.agent_id != appeasement.agent.username:
        changed.append("agentId")
    if data.reason is not None and data.reason != appeasement.reason.code:
        changed.append("reason")
    if data.type is not None and data.type != appeasement.type:
        changed.append("type")
    if data.issue_id is not None and data.issue_id != (appeasement.issue.issue_id if appeasement.issue else None):
        changed.append("issueId")
    if data.refunds is not None:
        current = {
            r.refund_id: (r.refund_type.code, r.amount, r.payment_group_id or None, r.currency_code)
            for r in appeasement.refunds.select_related("refund_type")
        }
        given = {}
        for r in data.refunds:
            try:
                amount = Decimal(r.amount).quantize(ledger.CENT)
            except (InvalidOperation, TypeError, ValueError):
                amount = None
            given[r.id] = (r.refund_type, amount, r.payment_group_id or None, r.currency_code or None)
        same = set(given) == set(current) and all(
            g[0] == c[0] and g[1] == c[1] and g[2] == c[2] and (g[3] is None or g[3] == c[3])
            for key, g in given.items()
            for c in [current.get(key)]
            if c is not None
        )
        if not same:
            changed.append("appeasementRefunds")
    return changed


@dataclass(frozen=True)
class DraftChange:
    """What a PUT changes on an ``INCOMPLETE`` appeasement, checked before anything is written: the fields that
    differ, and the refunds resolved against the (possibly new) order, or None when they stay as they are."""

    fields: dict[str, Any]
    refunds: list[_ResolvedRefund] | None


@transaction.atomic
def appeasement_update(*, appeasement_id: str, caller, data: AppeasementInput) -> Appeasement:
    """The ccagent PUT. While ``INCOMPLETE`` everything may change (:func:`_draft_change`); afterwards only
    ``notes`` and new comments (sending the same values again is accepted). ``state: SUBMITTED`` submits it."""
    appeasement = appeasement_get(appeasement_id, for_update=True)
    agent = resolve_actor(user=caller, employee_id=data.agent_id, field="agentId")
    _check_owner(appeasement, agent, "change")
    if data.state is not None and data.state not in (AppeasementState.INCOMPLETE, AppeasementState.SUBMITTED):
        if data.state != appeasement.state:
            raise InvalidInput.single("state", "Only INCOMPLETE or SUBMITTED can be requested")
    _validate_notes(data.notes)
    if appeasement.state != AppeasementState.INCOMPLETE:
        _update_after_submit(appeasement, data, agent=agent, caller=caller)
        return appeasement

    draft = _draft_change(appeasement, data, agent=agent)
    changed = {k: v for k, v in draft.fields.items() if getattr(appeasement, k) != v}
    if changed:
        for k, v in changed.items():
            setattr(appeasement, k, v)
        _save(appeasement, actor=agent, reason=f"Changed: {', '.join(sorted(changed))}")
    refunds_changed = _save_refunds(appeasement, draft.refunds, actor=agent) if draft.refunds is not None else False
    comments_added = _add_comments(appeasement, data.comments or [], caller=caller)
    if data.state == AppeasementState.SUBMITTED:
        _submit(appeasement, actor=agent)
    elif not changed and (refunds_changed or comments_added):
        # The ETag and lastModifiedDate mean the representation: refunds and comments are part of it. A PUT that
        # changes nothing moves neither (a client's If-Match stays good).
        _save(appeasement, actor=agent, reason="Refunds or comments changed")
    return appeasement


def _update_after_submit(appeasement: Appeasement, data: AppeasementInput, *, agent, caller) -> None:
    """Past ``INCOMPLETE``: 409 naming every field that would change, else the notes and new comments."""
    frozen = _frozen_changes(appeasement, data)
    if data.state is not None and data.state != appeasement.state:  # another state than its own: frozen too
        frozen.append("state")
    if frozen:
        raise WrongState(
            f"Appeasement {appeasement.appeasement_id} is {appeasement.state}: only notes and new comments "
            f"can change ({', '.join(frozen)} cannot)",
            field=frozen[0],
            current_state=appeasement.state,
        )
    notes_changed = data.notes is not None and data.notes != appeasement.notes
    if notes_changed:
        appeasement.notes = data.notes
        _save(appeasement, actor=agent, reason="Notes changed")
    if _add_comments(appeasement, data.comments or [], caller=caller) and not notes_changed:
        _save(appeasement, actor=agent, reason="Comment added")  # the representation changed: a new ETag


def _draft_change(appeasement: Appeasement, data: AppeasementInput, *, agent) -> DraftChange:
    """Every rule of an ``INCOMPLETE`` appeasement's PUT, checked against the order it ends on: appeasable, known
    reason, type and profile, an issue of that order, refunds within what was paid (a new order takes the current
    refunds along, checked again)."""
    order = appeasement.order
    if data.order_id is not None and data.order_id != order.order_id:
        order = appeasement_order_get(data.order_id)
    _check_order_appeasable(order)
    fields: dict[str, Any] = {}
    if order.pk != appeasement.order_id:
        fields["order"] = order
    if data.reason is not None and data.reason != appeasement.reason.code:
        fields["reason"] = _reason_for(data.reason)
    if data.type is not None:
        fields["type"] = _type_for(data.type)
    if data.profile_id is not None or "order" in fields:
        keep = appeasement.profile_id if "order" not in fields else None  # a new order brings its customer
        fields["profile_id"] = _profile_for(order, data.profile_id or keep)
    if data.notes is not None:
        fields["notes"] = data.notes
    if data.issue_id is not None:
        fields["issue"] = _issue_for(order, data.issue_id)
    elif "order" in fields and appeasement.issue_id:
        _issue_for(order, appeasement.issue.issue_id)  # the linked issue must belong to the new order
    if data.agent_id is not None and agent.pk != appeasement.agent_id:
        fields["agent"] = agent

    refunds = data.refunds
    if refunds is None and "order" in fields:  # the current refunds move to the new order: checked there
        refunds = [RefundInput.of_row(r) for r in appeasement.refunds.select_related("refund_type")]
    if refunds is None:
        return DraftChange(fields=fields, refunds=None)
    resolved = _resolve_refunds(order, refunds)
    _check_within_paid(order, sum((Decimal(r.input.amount) for r in resolved), ZERO))
    return DraftChange(fields=fields, refunds=resolved)


@transaction.atomic
def appeasement_delete(*, appeasement_id: str, caller, agent_id: str | None = None) -> None:
    appeasement = appeasement_get(appeasement_id, for_update=True)
    actor = resolve_actor(user=caller, employee_id=agent_id, field="agentId")
    _check_owner(appeasement, actor, "delete")
    if appeasement.state != AppeasementState.INCOMPLETE:
        raise WrongState(
            f"Appeasement {appeasement_id} is {appeasement.state}; only INCOMPLETE appeasements can be deleted",
            current_state=appeasement.state,
        )
    for row in [*appeasement.refunds.all(), *appeasement.comments.all(), appeasement]:
        stamp(row, actor=actor, reason="Appeasement deleted")
        row.delete()


# --------------------------------------------------------------------------- submit


@transaction.atomic
def appeasement_submit(*, appeasement_id: str, caller, agent_id: str | None = None) -> Appeasement:
    appeasement = appeasement_get(appeasement_id, for_update=True)
    agent = resolve_actor(user=caller, employee_id=agent_id, field="agentId")
    _check_owner(appeasement, agent, "submit")
    _submit(appeasement, actor=agent)
    return appeasement


def policy_breaches(appeasement: Appeasement, total: Decimal, *, submitter, order: Order | None = None) -> list[str]:
    """Why an appeasement of ``total`` submitted by ``submitter`` needs a manager's approval (empty: within policy):
    over the share of the order total, or over the submitter's refund limit on the order (read with the order
    row locked: pass ``order`` locked)."""
    order = order or appeasement.order
    why: list[str] = []
    share = Decimal(str(settings.APPEASEMENT_POLICY_SHARE))
    allowed = (order.order_total * share).quantize(ledger.CENT)
    if total > allowed:
        percent = f"{(share * 100).normalize():f}%"
        why.append(f"{total} {order.currency} is over {percent} of the order total ({allowed} {order.currency})")
    breach = limit_breach(order=order, employee=submitter, amount=total)
    if breach is not None:
        why.append(breach.message)
    return why


def _submit(appeasement: Appeasement, *, actor) -> None:
    """Inside the caller's transaction, with the appeasement row locked."""
    if appeasement.state != AppeasementState.INCOMPLETE:
        raise WrongState(
            f"Appeasement {appeasement.appeasement_id} is {appeasement.state}; only INCOMPLETE can be submitted",
            current_state=appeasement.state,
        )
    refunds = list(appeasement.refunds.select_related("refund_type", "payment"))
    if not refunds:
        raise InvalidInput.single("appeasementRefunds", "At least one refund is needed to submit")
    order = appeasement.order
    _check_order_appeasable(order)
    _resolve_refunds(
        order,
        [RefundInput.of_row(r) for r in refunds],
    )
    total = sum((r.amount for r in refunds), ZERO)
    _check_within_paid(order, total)

    from appeasements.validation import validate_with_hook

    validate_with_hook(appeasement)  # 900016 / 900015; before the order lock is taken

    # The order lock before the limit is read: what the submitter already refunded on the order is then final.
    locked = ledger.order_locked(appeasement.order_id)
    breaches = policy_breaches(appeasement, total, submitter=actor, order=locked)
    if breaches:
        appeasement.request_approval()
        _save(appeasement, actor=actor, reason="Over policy: approval requested")
        approvals.approval_request_open(appeasement=appeasement, actor=actor, why="; ".join(breaches))
        return
    appeasement.submit()
    _save(appeasement, actor=actor, reason="Submitted")
    _pay(appeasement, refunds, actor=actor)


def _pay(
    appeasement: Appeasement, refunds: list[AppeasementRefund], *, actor, requested_by=None, approved_by=None
) -> None:
    """Each refund through the ledger under the order lock: together with every other refund on the order
    they never pass what was paid (the ledger refuses otherwise and the whole submit rolls back). An approved
    appeasement's refunds are the submitter's (``requested_by``), approved by the deciding manager."""
    locked = ledger.order_locked(appeasement.order_id)
    _check_within_paid(locked, sum((r.amount for r in refunds), ZERO))
    for row in refunds:
        refund = refund_record(
            order=locked,
            actor=actor,
            amount=row.amount,
            source=row.refund_type.ledger_source,
            cause_type=RefundCause.APPEASEMENT,
            cause_id=appeasement.appeasement_id,
            reason=f"Appeasement {appeasement.appeasement_id}: {appeasement.reason.code}",
            payment=row.payment,
            currency=row.currency_code,
            requested_by=requested_by,
            approved_by=approved_by,
        )
        row.ledger_refund = refund
        save_with_history(row, actor=actor, reason=f"Ledger refund {refund.refund_id}")
    enqueue_after_commit(sync_refund_states, [r.pk for r in refunds])
    approvals.appeasement_submitted(appeasement=appeasement, actor=actor)
    event_emit("appeasement.submitted", appeasement)


# --------------------------------------------------------------------------- approval outcome


def appeasement_decided(*, approval, actor, approve: bool, note: str) -> None:
    """The approval queue's handler for appeasement requests (``issues.approvals``), called inside the decision's
    transaction, before the request itself is saved."""
    appeasement_decision_apply(
        appeasement_id=approval.target_id, actor=actor, approve=approve, note=note, requested_by=approval.requested_by
    )


def appeasement_decision_apply(
    *, appeasement_id: str, actor, approve: bool, note: str, requested_by=None
) -> Appeasement:
    """A manager's decision on a pending appeasement (called from the approval queue, inside its
    transaction): approving submits it through the ledger (what is still refundable checked again under the
    order lock), rejecting sets ``REJECTED`` with the note."""
    appeasement = appeasement_get(appeasement_id, for_update=True)
    if appeasement.state != AppeasementState.PENDING_APPROVAL:
        raise WrongState(
            f"Appeasement {appeasement_id} is {appeasement.state}, not PENDING_APPROVAL",
            current_state=appeasement.state,
        )
    verdict = "Approved" if approve else "Rejected"
    if not approve:
        appeasement.reject(note=note)
        _save(appeasement, actor=actor, reason="Rejected by a manager")
    else:
        refunds = list(appeasement.refunds.select_related("refund_type", "payment"))
        _check_order_appeasable(appeasement.order)
        appeasement.approve(note=note)
        _save(appeasement, actor=actor, reason="Approved by a manager: submitted")
        _pay(appeasement, refunds, actor=actor, requested_by=requested_by, approved_by=actor)
    # the decision is also a comment, so API clients see the manager's note in the seed's shape
    comment = AppeasementComment(appeasement=appeasement, agent=actor, comment=f"{verdict}: {note}"[:COMMENT_MAX])
    save_with_history(comment, actor=actor, reason=f"{verdict} by a manager")
    if not approve:
        approvals.appeasement_rejected(appeasement=appeasement, actor=actor, note=note)
    return appeasement


# --------------------------------------------------------------------------- refund states


def appeasement_refund_states_sync(*, refund_pks: list[int]) -> list[str]:
    """Copy each refund's ledger outcome (COMPLETE/FAILED) onto it. Idempotent; returns the states."""
    states = []
    for pk in refund_pks:
        with transaction.atomic():
            # The appeasement first, then its refund: the order every write of an appeasement locks them in.
            appeasement = Appeasement.objects.select_for_update(of=("self",)).filter(refunds__pk=pk).first()
            row = (
                AppeasementRefund.objects.select_for_update(of=("self",))
                .select_related("ledger_refund")
                .filter(pk=pk)
                .first()
            )
            if row is None or appeasement is None:
                continue
            state = refund_state(row)
            if state != row.state:
                row.state = state
                save_with_history(row, actor=None, reason=f"Ledger refund {state.lower()}")
                # the appeasement's representation shows each refund's state: its ETag moves with it
                _save(appeasement, actor=None, reason=f"Refund {row.refund_id} {state.lower()}")
            states.append(row.state)
    return states


def appeasement_refunds_sync_behind(*, older_than: timedelta, now=None, limit: int = 500) -> int:
    """Appeasement refunds still ``INCOMPLETE`` whose ledger refund settled (completed or failed) more than
    ``older_than`` ago: their ``sync_refund_states`` job was lost (a queue flushed, an enqueue that failed after
    commit). Their state is brought up to date, with its history row, as the job would have. Returns how many were
    found (at most ``limit``, the longest settled first). Safe beside a late job: the sync is idempotent."""
    cutoff = (now or timezone.now()) - older_than
    behind = list(
        AppeasementRefund.objects.filter(
            state=AppeasementRefundState.INCOMPLETE,
            ledger_refund__status__in=(RefundStatus.COMPLETED, RefundStatus.FAILED),
            ledger_refund__updated_at__lt=cutoff,
        )
        .order_by("ledger_refund__updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    if behind:
        appeasement_refund_states_sync(refund_pks=behind)
    return len(behind)


def refund_states_pending(states: list[str]) -> bool:
    return any(s == AppeasementRefundState.INCOMPLETE for s in states)


@task()
def sync_refund_states(refund_pks: list[int], attempt: int = 0) -> list[str]:
    """Copy the ledger outcome (COMPLETE/FAILED) onto the appeasement refunds (background task; ``appeasements.tasks``
    names it for jobs queued before it moved here).

    Enqueued after ``orders.tasks.process_refund`` for the same refunds. Where the backend can defer, a
    refund still being processed is looked at again a minute later (for an hour); the API shows the
    ledger's state in any case.
    """
    states = appeasement_refund_states_sync(refund_pks=refund_pks)
    backend = task_backends[sync_refund_states.backend]
    if refund_states_pending(states) and attempt < SYNC_RETRIES and backend.supports_defer:
        sync_refund_states.using(run_after=timezone.now() + SYNC_RETRY_AFTER).enqueue(refund_pks, attempt + 1)
    return states
