"""Every write of returns: whole-order returns (fabric API), line-level returns (back office, admin),
the fabric cancel, and the order's status log. Views, admin and commands call these.

Money: a return's refund goes through ``orders.services.refund_record`` only, so it shares the
ledger limit (refunds never exceed what was paid) with issue refunds and appeasements.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum

from config.errors import ValidationFailed
from config.history import save_with_history
from orders import ledger
from orders.errors import ItemNotFound, OrderNotFound, RefundProcessingError
from orders.models import (
    MODIFIABLE_ORDER_STATUSES,
    RETURNABLE_ORDER_STATUSES,
    ZERO,
    Order,
    OrderItem,
    OrderStatus,
    RefundCause,
    RefundSource,
)
from orders.refund_policy import limit_breach
from orders.services import order_apply_transition, refund_record
from returns.errors import (
    AlreadyCancelled,
    AlreadyReturned,
    OrderNotCancellable,
    OrderNotReturnable,
    UnknownReasonCode,
)
from returns.models import (
    OrderStatusDescription,
    ReasonKind,
    Return,
    ReturnChannel,
    ReturnLine,
    ReturnReason,
    ReturnScope,
)
from webhooks.services import event_emit

RETURN_TARGET = "return"  # approval requests holding a return's refund over the employee's limit


@dataclass(frozen=True)
class ReturnActor:
    """Who records a return: an employee (``user``) or a fabric API key (``user`` None, ``label`` its name)."""

    user: object | None
    label: str
    via: str = ReturnChannel.BACKOFFICE_API

    @classmethod
    def employee(cls, user, via: str = ReturnChannel.BACKOFFICE_API) -> ReturnActor:
        return cls(user=user, label=user.get_username(), via=via)

    @classmethod
    def api_key(cls, key) -> ReturnActor:
        return cls(user=None, label=f"API key '{key.name}'", via=ReturnChannel.FABRIC_API)


@dataclass(frozen=True)
class LineRequest:
    order_item_id: str
    quantity: int


# --------------------------------------------------------------------------- reads used by writes


def reason_get(code: str, *, kind: str = ReasonKind.RETURN, field: str = "returnCode") -> ReturnReason:
    reason = ReturnReason.objects.filter(code=code, kind=kind, is_active=True).first()
    if reason is None:
        label = "cancellation code" if kind == ReasonKind.CANCELLATION else "return code"
        raise UnknownReasonCode(f"Unknown {label} '{code}'", field=field, provided_value=code)
    return reason


def _order_locked(order_id: str, *, account: str | None = None, channel: int | None = None) -> Order:
    """The order row, locked. Another account's (or channel's) order is simply not found."""
    qs = Order.objects.select_for_update().filter(order_id=order_id)
    if account is not None:
        qs = qs.filter(account=account)
    if channel is not None:
        qs = qs.filter(channel=channel)
    order = qs.first()
    if order is None:
        raise OrderNotFound(order_id=order_id)
    return order


def returned_so_far(order: Order) -> tuple[dict[int, int], dict[int, Decimal]]:
    """(item pk -> quantity already returned, item pk -> value already returned), one query."""
    rows = list(
        ReturnLine.objects.filter(order_item__order=order)
        .values("order_item_id")
        .annotate(qty=Sum("quantity"), amount=Sum("amount"))
        .order_by()
    )
    quantities = {row["order_item_id"]: row["qty"] for row in rows}
    amounts = {row["order_item_id"]: row["amount"] for row in rows}
    return quantities, amounts


def returned_quantities(order: Order) -> dict[int, int]:
    """Item pk -> quantity already returned."""
    return returned_so_far(order)[0]


def status_description_append(
    *, order: Order, actor: ReturnActor, code: str = "", description: str = ""
) -> OrderStatusDescription:
    entry = OrderStatusDescription(order=order, status=order.status, code=code, description=description[:1000])
    save_with_history(entry, actor=actor.user, reason=f"Status {order.status} by {actor.label}")
    return entry


def _transition(order: Order, *, actor: ReturnActor, name: str, reason: str) -> Order:
    """Apply an FSM transition through the orders service (revision +1, history with the reason)."""
    return order_apply_transition(order=order, actor=actor.user, name=name, reason=f"{reason} by {actor.label}"[:100])


def _return_new(
    order: Order,
    *,
    actor: ReturnActor,
    scope: str,
    reason: ReturnReason,
    message: str,
    refund: bool,
    restock: bool = False,
) -> Return:
    """A return of the order, not saved yet, recorded as made by ``actor`` through its channel."""
    return Return(
        order=order,
        scope=scope,
        reason=reason,
        message=message,
        refund_requested=refund,
        restock=restock,
        currency=order.currency,
        created_via=actor.via,
        created_by=actor.user,
        created_by_label=actor.label,
    )


# --------------------------------------------------------------------------- refunds


def _refund_to_payments(
    *,
    order: Order,
    amount: Decimal,
    actor: ReturnActor,
    ret: Return,
    requested_by=None,
    approved_by=None,
    moved: bool = False,
) -> Decimal:
    """Refund ``amount`` to the order's captured payments, oldest first, each up to what it has left.

    Returns what was refunded (``refund_record`` enforces the order-wide ledger limit). ``moved``: the return moved
    the order's status in this transaction, so its revision moved already (one change, one revision).
    """
    if amount <= ZERO:
        return ZERO
    left = amount
    for payment, payment_left in ledger.payments_left(order):
        share = min(left, payment_left)
        refund_record(
            order=order,
            actor=actor.user,
            amount=share,
            source=RefundSource.MERCHANT,
            cause_type=RefundCause.RETURN,
            cause_id=ret.return_id,
            reason=f"Return {ret.return_id} ({ret.reason.code}) by {actor.label}",
            payment=payment,
            requested_by=requested_by,
            approved_by=approved_by,
            touch=not moved,
        )
        left -= share
        if left <= ZERO:
            break
    return amount - left


# --------------------------------------------------------------------------- whole-order return (fabric)


@transaction.atomic
def order_return_whole(
    *,
    order_id: str,
    actor: ReturnActor,
    return_code: str,
    message: str = "",
    refund: bool = False,
    account: str | None = None,
    channel: int | None = None,
) -> Return:
    """Return every item of a completed order (``PATCH /api-order/orders/return``).

    Locks the order; refuses anything but a completed order (409, ``ALREADY_RETURNED`` when it was
    returned already, so a repeated request never refunds twice). With ``refund`` the remaining
    refundable amount of the ledger goes back to the order's captured payments.
    """
    reason = reason_get(return_code, field="returnCode")
    order = _order_locked(order_id, account=account, channel=channel)
    if order.status == OrderStatus.RETURNED or Return.objects.filter(order=order, scope=ReturnScope.ORDER).exists():
        raise AlreadyReturned(order_id=order.order_id, current_status=order.status)
    if order.status != OrderStatus.COMPLETED:
        raise OrderNotReturnable(
            f"Only a completed order can be returned whole; this one is {order.status}",
            order_id=order.order_id,
            current_status=order.status,
        )
    items = list(OrderItem.objects.filter(order=order).order_by("line_number"))
    ret = _return_new(order, actor=actor, scope=ReturnScope.ORDER, reason=reason, message=message, refund=refund)
    try:
        with transaction.atomic():
            save_with_history(ret, actor=actor.user, reason=f"Order returned by {actor.label}")
    except IntegrityError as exc:  # a concurrent whole return won the race (the unique constraint)
        raise AlreadyReturned(order_id=order.order_id) from exc
    for item in items:
        save_with_history(
            ReturnLine(return_obj=ret, order_item=item, quantity=item.quantity, amount=item.line_total),
            actor=actor.user,
            reason=f"Order returned by {actor.label}",
        )
    _transition(order, actor=actor, name="return_fully", reason=f"Returned ({reason.code})")
    status_description_append(order=order, actor=actor, code=reason.code, description=reason.description or message)
    if refund:  # within the employee's refund limit, else held for a manager, as a line return's
        _refund_or_request(order=order, amount=ledger.refundable(order), actor=actor, ret=ret)
    event_emit("return.created", ret)
    return ret


# --------------------------------------------------------------------------- line-level return (back office)


@dataclass(frozen=True)
class LinesReturn:
    """A line-level return checked against the order (:func:`lines_return_check`): the items chosen with their
    quantities, and what each line had returned before."""

    order: Order
    items: dict[str, OrderItem]  # every item of the order, by order_item_id
    chosen: list[tuple[OrderItem, int]]
    returned: dict[int, int]  # item pk -> quantity returned before
    returned_amounts: dict[int, Decimal]  # item pk -> value returned before

    def amount_of(self, item: OrderItem, quantity: int) -> Decimal:
        """The value of ``quantity`` of the line: its share, and the rest of the line exactly when it is the rest."""
        if quantity == item.quantity - self.returned.get(item.pk, 0):
            return item.line_total - self.returned_amounts.get(item.pk, ZERO)
        return (item.line_total * quantity / item.quantity).quantize(ledger.CENT)


@transaction.atomic
def order_return_lines(
    *,
    order_id: str,
    actor: ReturnActor,
    return_code: str,
    lines: list[LineRequest],
    message: str = "",
    refund: bool = False,
    restock: bool = False,
) -> Return:
    """Return some quantities of some items (``POST /api/v1/orders/{order_id}/returns``, admin form).

    Quantities cannot pass what was bought minus what was already returned. The refund is the lines'
    share of what was paid (penny-exact over successive returns: the last one refunds the rest),
    capped by what the ledger still allows after other refunds. The order becomes
    ``partially_returned``, or ``returned`` when nothing is left.
    """
    reason = reason_get(return_code, field="return_code")
    order = _order_locked(order_id)
    check = lines_return_check(order, lines)
    value_before = sum(check.returned_amounts.values(), ZERO)
    ret = _return_new(
        order, actor=actor, scope=ReturnScope.LINES, reason=reason, message=message, refund=refund, restock=restock
    )
    save_with_history(ret, actor=actor.user, reason=f"Items returned by {actor.label}")
    returned, returned_amounts = _return_lines_save(ret, check, actor=actor)
    everything_back = all(returned.get(i.pk, 0) >= i.quantity for i in check.items.values())
    _transition(
        order,
        actor=actor,
        name="return_fully" if everything_back else "return_partially",
        reason=f"Items returned ({reason.code})",
    )
    status_description_append(order=order, actor=actor, code=reason.code, description=reason.description or message)
    if refund:
        order_value = sum((i.line_total for i in check.items.values()), ZERO)
        share = paid_share(
            order, order_value=order_value, before=value_before, after=sum(returned_amounts.values(), ZERO)
        )
        _refund_or_request(order=order, amount=min(share, ledger.refundable(order)), actor=actor, ret=ret)
    event_emit("return.created", ret)
    return ret


def lines_return_check(order: Order, lines: list[LineRequest]) -> LinesReturn:
    """The lines asked for, against the locked order: an item of another order is 404; the order must be
    returnable (409); each line once, each quantity from 1 to what is still returnable (one VALIDATION_ERROR
    listing every problem)."""
    if not lines:
        raise ValidationFailed.single("items", "At least one item is required")
    items = {str(i.order_item_id): i for i in OrderItem.objects.filter(order=order).order_by("line_number")}
    returned, returned_amounts = returned_so_far(order)
    problems: list[dict[str, str]] = []
    seen: set[str] = set()
    chosen: list[tuple[OrderItem, int]] = []
    for index, line in enumerate(lines):
        key = str(line.order_item_id).lower()
        item = items.get(key)
        if item is None:
            raise ItemNotFound(order_item_id=str(line.order_item_id), field=f"items[{index}].order_item_id")
        if key in seen:
            problems.append({"field": f"items[{index}].order_item_id", "error": "Listed more than once"})
            continue
        seen.add(key)
        left = item.quantity - returned.get(item.pk, 0)
        if line.quantity < 1:
            problems.append({"field": f"items[{index}].quantity", "error": "Must be at least 1"})
        elif line.quantity > left:
            problems.append(
                {
                    "field": f"items[{index}].quantity",
                    "error": f"Cannot exceed the {left} still returnable (bought {item.quantity})",
                }
            )
        else:
            chosen.append((item, line.quantity))
    if order.status == OrderStatus.RETURNED:
        raise AlreadyReturned(order_id=order.order_id, current_status=order.status)
    if order.status not in RETURNABLE_ORDER_STATUSES:
        raise OrderNotReturnable(
            f"Items can be returned only from a completed order; this one is {order.status}",
            order_id=order.order_id,
            current_status=order.status,
        )
    if problems:
        raise ValidationFailed(problems)
    return LinesReturn(order, items, chosen, returned, returned_amounts)


def _return_lines_save(
    ret: Return, check: LinesReturn, *, actor: ReturnActor
) -> tuple[dict[int, int], dict[int, Decimal]]:
    """One ReturnLine per chosen item with its value; returns what is returned of each line now, quantity and
    value (the return's included)."""
    returned, returned_amounts = dict(check.returned), dict(check.returned_amounts)
    for item, quantity in check.chosen:
        amount = check.amount_of(item, quantity)
        save_with_history(
            ReturnLine(return_obj=ret, order_item=item, quantity=quantity, amount=amount),
            actor=actor.user,
            reason=f"Items returned by {actor.label}",
        )
        returned[item.pk] = returned.get(item.pk, 0) + quantity
        returned_amounts[item.pk] = returned_amounts.get(item.pk, ZERO) + amount
    return returned, returned_amounts


def _refund_or_request(*, order: Order, amount: Decimal, actor: ReturnActor, ret: Return) -> None:
    """The return's refund within the employee's refund limit; over it, an approval request holds it (the return
    itself is recorded: the goods are back) and ``return_refund_approved`` pays it once a manager approves."""
    breach = limit_breach(order=order, employee=actor.user, amount=amount) if amount > ZERO else None
    if breach is None:
        ret.refund_amount = _refund_to_payments(order=order, amount=amount, actor=actor, ret=ret, moved=True)
        save_with_history(
            ret,
            actor=actor.user,
            reason=f"Refunded through the ledger by {actor.label}",
            update_fields=["refund_amount"],
        )
        return
    from issues.refund_requests import refund_request_open

    approval = refund_request_open(
        order=order,
        actor=actor.user,
        breach=breach,
        target_type=RETURN_TARGET,
        target_id=ret.return_id,
        payload={"return_id": ret.return_id},
    )
    ret.refund_approval_id = approval.approval_id
    save_with_history(
        ret,
        actor=actor.user,
        reason=f"Refund over the limit: {approval.approval_id} waits for a manager",
        update_fields=["refund_approval_id"],
    )


def return_refund_decided(*, approval, actor, approve: bool, note: str) -> None:
    """The approval queue's handler for a return's refund held over the limit (registered in ``ReturnsConfig``):
    approving pays it (:func:`return_refund_approved`); rejecting refunds nothing, the return stays recorded."""
    if approve:
        return_refund_approved(approval=approval, actor=actor)


def return_refund_approved(*, approval, actor) -> Return:
    """A manager approved a return's refund held over the limit (the approval queue's handler, in its
    transaction): what was asked goes back to the payments now, if the order still allows it (422 otherwise)."""
    ret = Return.objects.select_related("reason").get(return_id=approval.target_id)
    order = _order_locked(approval.payload["order_id"])
    amount = Decimal(approval.payload["amount"])
    refundable = ledger.refundable(order)
    if amount > refundable:
        raise RefundProcessingError(
            f"Refund of {amount} exceeds the refundable amount {refundable} on order {order.order_id}",
            refundable_amount=refundable,
        )
    ret.refund_amount += _refund_to_payments(
        order=order,
        amount=amount,
        actor=ReturnActor.employee(actor, via=ret.created_via),
        ret=ret,
        requested_by=approval.requested_by,
        approved_by=actor,
    )
    save_with_history(
        ret,
        actor=actor,
        reason=f"Refund approved ({approval.approval_id})",
        update_fields=["refund_amount"],
    )
    return ret


def paid_share(order: Order, *, order_value: Decimal, before: Decimal, after: Decimal) -> Decimal:
    """What was paid for the value returned between ``before`` and ``after`` (cumulative returned value).

    paid x returned value / order value, on cumulative values so that successive returns add up to
    exactly what was paid (the return that brings everything back gets the rest, no lost pennies).
    """
    paid = ledger.order_money(order).paid
    if order_value <= ZERO:
        return ZERO

    def cumulative(returned_value: Decimal) -> Decimal:
        if returned_value >= order_value:
            return paid
        return (paid * returned_value / order_value).quantize(ledger.CENT)

    return max(cumulative(after) - cumulative(before), ZERO)


# --------------------------------------------------------------------------- fabric cancel


@transaction.atomic
def order_cancel(
    *,
    order_id: str,
    actor: ReturnActor,
    cancellation_code: str,
    message: str = "",
    account: str | None = None,
    channel: int | None = None,
) -> Order:
    """Cancel an order before it ships (``PATCH /api-order/orders/cancel``). A paid order is refunded what is still
    refundable in this transaction (``orders.services.order_cancel_refunds``, through the transition)."""
    reason = reason_get(cancellation_code, kind=ReasonKind.CANCELLATION, field="cancellationCode")
    order = _order_locked(order_id, account=account, channel=channel)
    if order.status == OrderStatus.CANCELED:
        raise AlreadyCancelled(order_id=order.order_id, current_status=order.status)
    if order.status not in MODIFIABLE_ORDER_STATUSES or order.has_shipped():
        raise OrderNotCancellable(order_id=order.order_id, current_status=order.status)
    _transition(order, actor=actor, name="cancel", reason=f"Cancelled ({reason.code})")
    status_description_append(order=order, actor=actor, code=reason.code, description=reason.description or message)
    return order
