"""Every write to orders, items and the refund ledger. Views, admin and commands call these."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from django_tasks import task
from simple_history.utils import bulk_create_with_history

from config.errors import (
    ConcurrentUpdate,
    Duplicate,
    InvalidFieldValue,
    InvalidStatusTransition,
    PermissionDenied,
    ValidationFailed,
)
from config.history import save_with_history, stamp, via_of
from config.tasks import enqueue_after_commit
from orders.errors import ItemNotFound, OrderNotFound, OrderNotModifiable, RefundProcessingError
from orders.ledger import CENT, order_locked, payments_left, refund_checked, refundable
from orders.models import (
    MODIFIABLE_ORDER_STATUSES,
    ZERO,
    Category,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    Promotion,
    Refund,
    RefundCause,
    RefundLimit,
    RefundSource,
    RefundStatus,
    Shipment,
    ShipmentLine,
)
from orders.refund_policy import LimitBreach, limit_breach
from orders.signals import refund_failed
from webhooks.services import event_emit

logger = logging.getLogger(__name__)
fulfillment_logger = logging.getLogger("orders.fulfillment")


# --------------------------------------------------------------------------- orders


def order_get(order_id: str, *, for_update: bool = False) -> Order:
    qs = Order.objects.select_for_update() if for_update else Order.objects
    order = qs.filter(order_id=order_id).first()
    if order is None:
        raise OrderNotFound(order_id=order_id)
    return order


@dataclass(frozen=True)
class OrderDraft:
    """A new order's body (validated in shape by the API) and what :func:`order_create` computes from it before
    writing anything: its currency, the items' categories and the totals."""

    data: dict[str, Any]
    currency: str
    categories: dict[str, Category]
    subtotal: Decimal
    tax_total: Decimal
    order_total: Decimal

    @property
    def items(self) -> list[dict[str, Any]]:
        return self.data["items"]

    @property
    def ship_to(self) -> dict[str, Any]:
        return self.data.get("ship_to") or {}


@transaction.atomic
def order_create(*, actor, data: dict[str, Any]) -> Order:
    """Create an order with its items, payments, shipments (with what each carried) and promotions.

    Totals are computed here: the items, plus the ship-to's shipping price and its estimated tax (the fabric order's
    ``shipTo[].price`` / ``estimatedTax``), so a payment may cover the shipping too. Everything is validated first
    (:func:`order_validate`: one VALIDATION_ERROR listing every problem), then written.
    """
    draft = order_validate(data)
    order = _order_save(draft, actor=actor)
    lines = _order_lines_save(order, draft, actor=actor)
    _order_payments_save(order, draft, actor=actor)
    _order_shipments_save(order, draft, lines, actor=actor)
    event_emit("order.created", order)
    return order


def order_validate(data: dict[str, Any]) -> OrderDraft:
    """Every rule of a new order that its shape cannot say: a free order id, known categories (400 naming the
    field), unique item names, discounts within the line, weights with units, payments in the order's currency with
    unique groups and not over the total, shipments carrying lines the order has, no more than was ordered."""
    order_id = data.get("order_id")
    if order_id and Order.objects.filter(order_id=order_id).exists():
        raise Duplicate("An order with this order_id already exists", field="order_id", provided_value=order_id)
    currency = data.get("currency") or "USD"
    items = data["items"]
    categories = {c.name: c for c in Category.objects.filter(name__in={i["store_item_category"] for i in items})}
    for index, item in enumerate(items):
        if item["store_item_category"] not in categories:
            raise InvalidFieldValue(f"items[{index}].store_item_category", item["store_item_category"])
    problems = [
        *_item_problems(items),
        *_payment_problems(data.get("payments", []), currency),
        *_shipment_problems(data.get("shipments", []), items),
    ]
    ship_to = data.get("ship_to") or {}
    subtotal = sum((i["quantity"] * i["unit_price"] - i.get("discount", ZERO) for i in items), ZERO)
    tax_total = sum((i.get("tax", ZERO) for i in items), ZERO) + ship_to.get("estimated_tax", ZERO)
    order_total = (subtotal + ship_to.get("price", ZERO) + tax_total).quantize(CENT)
    paid = sum((p["amount"] for p in data.get("payments", [])), ZERO)
    if paid > order_total:
        problems.append({"field": "payments", "error": f"Payments ({paid}) exceed the order total ({order_total})"})
    if problems:
        raise ValidationFailed(problems)
    return OrderDraft(
        data=data,
        currency=currency,
        categories=categories,
        subtotal=subtotal.quantize(CENT),
        tax_total=tax_total.quantize(CENT),
        order_total=order_total,
    )


def _item_problems(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    problems = []
    names = [i["store_item_name"].strip().casefold() for i in items]
    for index, name in enumerate(names):
        if names.index(name) != index:
            problems.append({"field": f"items[{index}].store_item_name", "error": "Must be unique within the order"})
    for index, item in enumerate(items):
        if item.get("discount", ZERO) > item["quantity"] * item["unit_price"]:
            problems.append({"field": f"items[{index}].discount", "error": "Cannot exceed quantity x unit_price"})
        if (item.get("weight") is None) != (not item.get("weight_unit")):
            problems.append(
                {"field": f"items[{index}].weight_unit", "error": "A weight needs its unit, a unit its weight"}
            )
    return problems


def _payment_problems(payments: list[dict[str, Any]], currency: str) -> list[dict[str, str]]:
    problems = []
    for index, payment in enumerate(payments):
        if payment.get("currency", currency) != currency:
            problems.append({"field": f"payments[{index}].currency", "error": f"Must be the order currency {currency}"})
    group_ids = [p["payment_group_id"] for p in payments]
    if len(group_ids) != len(set(group_ids)):
        problems.append({"field": "payments", "error": "payment_group_id must be unique within the order"})
    return problems


def _shipment_problems(shipments: list[dict[str, Any]], items: list[dict[str, Any]]) -> list[dict[str, str]]:
    problems = []
    shipped: dict[int, int] = {}  # line number -> quantity the shipments carry
    for s_index, shipment in enumerate(shipments):
        shipped_date, delivered_date = shipment.get("shipped_date"), shipment.get("delivered_date")
        if delivered_date and (not shipped_date or delivered_date < shipped_date):
            problems.append({"field": f"shipments[{s_index}].delivered_date", "error": "Cannot be before shipped_date"})
        seen: set[int] = set()
        for l_index, line in enumerate(shipment.get("line_items", [])):
            field, number = f"shipments[{s_index}].line_items[{l_index}].line_number", line["line_number"]
            if number > len(items):
                problems.append({"field": field, "error": f"The order has lines 1 to {len(items)}"})
            elif number in seen:
                problems.append({"field": field, "error": "A line appears once per shipment"})
            else:
                seen.add(number)
                shipped[number] = shipped.get(number, 0) + line["quantity"]
    for number, quantity in sorted(shipped.items()):
        ordered = items[number - 1]["quantity"]
        if quantity > ordered:
            problems.append({"field": "shipments", "error": f"Line {number}: {quantity} shipped, {ordered} ordered"})
    return problems


def _order_save(draft: OrderDraft, *, actor) -> Order:
    data, ship_to = draft.data, draft.ship_to
    customer = data.get("customer") or {}
    order = Order(
        currency=draft.currency,
        customer_id=customer.get("customer_id", ""),
        customer_first_name=customer.get("first_name", ""),
        customer_middle_name=customer.get("middle_name", ""),
        customer_last_name=customer.get("last_name", ""),
        customer_email=customer.get("email", ""),
        customer_phone=customer.get("phone", ""),
        customer_phone_kind=customer.get("phone_kind", ""),
        ship_to_street1=ship_to.get("street1", ""),
        ship_to_street2=ship_to.get("street2", ""),
        ship_to_city=ship_to.get("city", ""),
        ship_to_state=ship_to.get("state", ""),
        ship_to_zip_code=ship_to.get("zip_code", ""),
        ship_to_country=ship_to.get("country", ""),
        ship_to_is_validated=ship_to.get("is_validated", False),
        ship_to_price=ship_to.get("price", ZERO),
        ship_to_estimated_tax=ship_to.get("estimated_tax", ZERO),
        ship_to_committed_tax=ship_to.get("committed_tax", ZERO),
        ship_to_tax_code=ship_to.get("tax_code", ""),
        ship_to_carrier=ship_to.get("carrier", ""),
        ship_to_method=ship_to.get("method", ""),
        ship_to_method_id=ship_to.get("method_id", ""),
        ship_to_promised_delivery_date=ship_to.get("promised_delivery_date"),
        ship_to_instructions=ship_to.get("instructions", ""),
        tags=data.get("tags", []),
        events=data.get("events", []),
        attributes=data.get("attributes", []),
        subtotal=draft.subtotal,
        tax_total=draft.tax_total,
        order_total=draft.order_total,
    )
    order_id = data.get("order_id")
    if order_id:
        order.order_id = order_id
    if data.get("account"):
        order.account = data["account"]
    if data.get("channel") is not None:
        order.channel = data["channel"]
    try:
        with transaction.atomic():  # a concurrent create with the same order_id loses here, cleanly
            save_with_history(order, actor=actor, reason="Order created")
    except IntegrityError as exc:
        if not order_id:
            raise
        raise Duplicate(
            "An order with this order_id already exists", field="order_id", provided_value=order_id
        ) from exc
    return order


def _order_lines_save(order: Order, draft: OrderDraft, *, actor) -> list[OrderItem]:
    lines: list[OrderItem] = []
    for line_number, item in enumerate(draft.items, start=1):
        line = OrderItem(
            order=order,
            line_number=line_number,
            sku=item["sku"],
            item_id=item.get("item_id", ""),
            store_item_name=item["store_item_name"].strip(),
            store_item_description=item.get("store_item_description", ""),
            category=draft.categories[item["store_item_category"]],
            store_item_size=item.get("store_item_size", ""),
            quantity=item["quantity"],
            unit_price=item["unit_price"],
            discount=item.get("discount", ZERO),
            tax=item.get("tax", ZERO),
            special_instructions=item.get("special_instructions", ""),
            preparation_notes=item.get("preparation_notes", ""),
            item_group=item.get("group", ""),
            tax_code=item.get("tax_code", ""),
            weight=item.get("weight"),
            weight_unit=item.get("weight_unit", ""),
            reserved_location=item.get("reserved_location", ""),
            attributes=item.get("attributes", []),
        )
        save_with_history(line, actor=actor, reason="Order created")
        lines.append(line)
    return lines


def _order_payments_save(order: Order, draft: OrderDraft, *, actor) -> None:
    for payment in draft.data.get("payments", []):
        bill_to = payment.get("bill_to") or {}
        save_with_history(
            Payment(
                order=order,
                payment_group_id=payment["payment_group_id"],
                payment_method=payment["payment_method"],
                amount=payment["amount"],
                currency=payment.get("currency", draft.currency),
                status=payment.get("status", "captured"),
                payment_kind=payment.get("kind", ""),
                card_last_four=payment.get("card_last_four", ""),
                token_reference=payment.get("token_reference", ""),
                conversion_rate=payment.get("conversion_rate", Decimal("1")),
                **{f"bill_to_{key}": value for key, value in bill_to.items()},
            ),
            actor=actor,
            reason="Order created",
        )


def _order_shipments_save(order: Order, draft: OrderDraft, lines: list[OrderItem], *, actor) -> None:
    """Shipments one by one; promotions (up to 100 per item) and shipment lines one statement each, each row
    with its history row."""
    shipment_lines: list[ShipmentLine] = []
    for shipment in draft.data.get("shipments", []):
        row = Shipment(order=order, **{key: value for key, value in shipment.items() if key != "line_items"})
        save_with_history(row, actor=actor, reason="Order created")
        shipment_lines += [
            ShipmentLine(shipment=row, order_item=lines[line["line_number"] - 1], quantity=line["quantity"])
            for line in shipment.get("line_items", [])
        ]
    promotions = [Promotion(order=order, name=p["name"]) for p in draft.ship_to.get("promotions", [])]
    for line, item in zip(lines, draft.items, strict=True):
        promotions += [Promotion(order=order, order_item=line, name=p["name"]) for p in item.get("promotions", [])]
    for model, rows in ((Promotion, promotions), (ShipmentLine, shipment_lines)):
        for row in rows:
            stamp(row, actor=actor, reason="Order created")
        if rows:
            bulk_create_with_history(rows, model, custom_historical_attrs={"history_via": via_of(actor)})


def _manual_transitions(order: Order) -> list:
    """Status moves an employee may make directly. Transitions marked ``custom={"admin": False}``
    (returns) belong to their own service, which records the Return before moving the order."""
    return [t for t in order.get_available_status_transitions() if t.custom.get("admin", True) is not False]


def order_allowed_statuses(order: Order) -> list[str]:
    return [t.target for t in _manual_transitions(order)]


@transaction.atomic
def order_change_status(*, order_id: str, actor, status: str, reason: str = "") -> tuple[Order, str]:
    """Move an order along its workflow to ``status``. Returns (order, previous status)."""
    order = order_get(order_id, for_update=True)
    previous = order.status
    transitions = [t for t in _manual_transitions(order) if t.target == status]
    if not transitions:
        shipped = status == OrderStatus.CANCELED and order.status in MODIFIABLE_ORDER_STATUSES and order.has_shipped()
        raise InvalidStatusTransition(
            "A shipped order cannot be cancelled: record a return once it is delivered"
            if shipped
            else f"Cannot move an order from {previous} to {status}",
            current_status=previous,
            requested_status=status,
            allowed_transitions=order_allowed_statuses(order),
        )
    transition = transitions[0]
    if not transition.has_perm(order, actor):
        raise PermissionDenied(f"Moving an order to {status} needs the permission {transition.permission}")
    return order_apply_transition(order=order, actor=actor, name=transition.name, reason=reason), previous


@transaction.atomic
def order_transition(*, order: Order, actor, transition: str, reason: str = "") -> Order:
    """Apply the named transition (admin buttons)."""
    order = order_get(order.order_id, for_update=True)
    method = getattr(order, transition, None)
    if method is None or not hasattr(method, "_django_fsm"):
        raise InvalidStatusTransition(f"Unknown transition {transition}")
    available = {t.name: t for t in _manual_transitions(order)}
    if transition not in available:
        raise InvalidStatusTransition(
            f"Cannot {transition} an order in status {order.status}",
            current_status=order.status,
            allowed_transitions=order_allowed_statuses(order),
        )
    if not available[transition].has_perm(order, actor):
        raise PermissionDenied(f"This move needs the permission {available[transition].permission}")
    return order_apply_transition(order=order, actor=actor, name=transition, reason=reason)


def order_touch(order: Order, *, actor, reason: str) -> None:
    """What the order's representation shows changed (an item, a refund): its revision, the ETag, moves.
    ``order`` is the row locked by the caller."""
    order.revision += 1
    try:
        save_with_history(order, actor=actor, reason=reason, update_fields=["revision", "updated_at"])
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate() from exc


def order_apply_transition(*, order: Order, actor, name: str, reason: str) -> Order:
    """Apply the transition ``name`` to ``order``, locked by the caller (the status moves of other apps' use cases
    too: returns): 409 when the workflow refuses it, the revision +1, a history row with ``reason``, and a
    cancellation refunds what is still refundable (:func:`order_cancel_refunds`)."""
    previous = order.status
    try:
        getattr(order, name)()
    except TransitionNotAllowed as exc:
        raise InvalidStatusTransition(
            str(exc), current_status=previous, allowed_transitions=order_allowed_statuses(order)
        ) from exc
    order.revision += 1
    try:
        save_with_history(order, actor=actor, reason=reason or f"Status {previous} -> {order.status}")
    except ConcurrentTransition as exc:
        raise ConcurrentUpdate() from exc
    if order.status == OrderStatus.CANCELED:
        event_emit("order.cancelled", order, extra={"from": previous, "to": order.status})
        order_cancel_refunds(order, actor=actor, reason=reason)
    return order


def order_cancel_refunds(order: Order, *, actor, reason: str = "") -> list[Refund]:
    """A cancelled order gives back what is still refundable, one refund per captured payment (to the payment, cause
    ``cancellation``), in the caller's transaction with ``order`` locked: every cancel route (back-office PATCH,
    fabric cancel, admin button) moves the order through :func:`order_apply_transition`, which calls this.

    The ledger's rules apply (:func:`refund_checked`: never more than the order's payments captured minus its
    non-failed refunds, refunds made without a payment counted first); no refund limit does: giving back the
    price of an order that will never ship is no goodwill, and who cancels may cancel. A payment's share is what
    it captured minus the non-failed refunds made to it.
    """
    left = refundable(order)
    refunds: list[Refund] = []
    if left <= ZERO:
        return refunds
    why = f"Order cancelled{': ' + reason if reason else ''}"
    for payment, payment_left in payments_left(order):
        share = min(payment_left, left)
        if share <= ZERO:
            break
        amount = refund_checked(order=order, amount=share, source=RefundSource.MERCHANT, payment=payment)
        refunds.append(
            _refund_write(
                order=order,
                actor=actor,
                amount=amount,
                source=RefundSource.MERCHANT,
                cause_type=RefundCause.CANCELLATION,
                cause_id=order.order_id,
                reason=why,
                payment=payment,
                requested_by=actor,
                approved_by=None,
                touch=False,  # the cancellation's own save moved the revision
            )
        )
        left -= amount
    return refunds


# --------------------------------------------------------------------------- order items

ITEM_EDITABLE_FIELDS = (
    "special_instructions",
    "store_item_name",
    "store_item_description",
    "store_item_category",
    "store_item_size",
    "preparation_notes",
)


@dataclass(frozen=True)
class ItemUpdateResult:
    item: OrderItem
    updated_fields: list[str]
    timestamp: datetime


def _parse_uuid(value: str):
    import uuid

    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        return None


def order_item_get(*, order_id: str, order_item_id: str) -> OrderItem:
    """The item ``order_item_id`` of order ``order_id``; ITEM_NOT_FOUND for a malformed id or another order's item."""
    order = order_get(order_id)
    item_uuid = _parse_uuid(order_item_id)
    item = OrderItem.objects.filter(order=order, order_item_id=item_uuid).first() if item_uuid else None
    if item is None:
        raise ItemNotFound(order_item_id=str(order_item_id))
    return item


@transaction.atomic
def order_item_update(*, order_id: str, order_item_id: str, actor, changes: dict[str, Any]) -> ItemUpdateResult:
    """Update an item's metadata (docs/api/backoffice.md). ``changes`` holds only fields the caller sent."""
    order = order_get(order_id, for_update=True)
    item_uuid = _parse_uuid(order_item_id)
    item = (
        # of=self: category is a nullable (outer) join, which PostgreSQL refuses to lock
        OrderItem.objects.select_for_update(of=("self",))
        .select_related("category")
        .filter(order=order, order_item_id=item_uuid)
        .first()
        if item_uuid
        else None
    )
    if item is None:
        raise ItemNotFound(order_item_id=str(order_item_id))
    if not order.is_modifiable:
        raise OrderNotModifiable(current_status=order.status)

    new_values: dict[str, Any] = {}
    if "store_item_category" in changes:
        name = changes["store_item_category"]
        if name is None:
            raise ValidationFailed.single("store_item_category", "Cannot be null")
        category = Category.objects.filter(name=name).first()
        if category is None or category.name != name:  # case-sensitive, whatever the DB collation
            raise InvalidFieldValue("store_item_category", name)
        new_values["category"] = category
    if "store_item_name" in changes:
        name = (changes["store_item_name"] or "").strip()
        if not name:
            raise ValidationFailed.single("store_item_name", "Cannot be empty")
        clash = [
            other
            for other in OrderItem.objects.filter(order=order)
            .exclude(pk=item.pk)
            .values_list("store_item_name", flat=True)
            if other.strip().casefold() == name.casefold()
        ]
        if clash:
            raise ValidationFailed.single("store_item_name", "Must be unique within the order")
        new_values["store_item_name"] = name
    for field_name in ("special_instructions", "store_item_description", "store_item_size", "preparation_notes"):
        if field_name in changes:
            new_values[field_name] = changes[field_name] or ""

    updated_fields: list[str] = []
    for attr, value in new_values.items():
        api_name = "store_item_category" if attr == "category" else attr
        if getattr(item, attr) != value:
            setattr(item, attr, value)
            updated_fields.append(api_name)
    updated_fields.sort(key=ITEM_EDITABLE_FIELDS.index)

    now = timezone.now()
    if updated_fields:
        item.revision += 1
        save_with_history(item, actor=actor, reason=f"Item updated: {', '.join(updated_fields)}")
        order_touch(order, actor=actor, reason=f"Item {item.line_number} updated")
        enqueue_after_commit(notify_fulfillment, str(item.order_item_id), updated_fields, actor.username)
        event_emit("order_item.updated", item, extra={"updated_fields": updated_fields})
    return ItemUpdateResult(item=item, updated_fields=updated_fields, timestamp=now)


# --------------------------------------------------------------------------- categories


@transaction.atomic
def category_create(*, actor, name: str, description: str = "") -> Category:
    name = name.strip()
    if not name:
        raise ValidationFailed.single("name", "Cannot be empty")
    if Category.objects.filter(name=name).exists():
        raise Duplicate("A category with this name already exists", field="name", provided_value=name)
    category = Category(name=name, description=description)
    try:
        with transaction.atomic():  # a concurrent create of the same name loses here, cleanly
            save_with_history(category, actor=actor, reason="Category created")
    except IntegrityError as exc:
        raise Duplicate("A category with this name already exists", field="name", provided_value=name) from exc
    return category


# --------------------------------------------------------------------------- the refund ledger


def refund_record(
    *,
    order: Order,
    actor,
    amount: Decimal,
    source: str,
    cause_type: str = RefundCause.NONE,
    cause_id: str = "",
    reason: str = "",
    payment: Payment | None = None,
    currency: str | None = None,
    requested_by=None,
    approved_by=None,
    touch: bool = True,
) -> Refund:
    """Record a refund: the only way money goes back to a customer.

    Locks the order row and refuses (``REFUND_PROCESSING_ERROR``, with ``refundable_amount``) any amount that is
    not positive or that would take the order's non-failed refunds past what its payments captured. The refund is
    ``requested_by`` the actor (or, when a manager ``approved_by`` records it, the employee who asked for it). An
    employee's refund over their refund limit is refused here too unless approved: to turn it into an approval
    request instead, call :func:`refund_within_limit`. Processing runs in a background task after commit.
    ``touch=False``: the caller saved the order in this transaction already (a return's status move), so the
    order's revision and history move once for the whole change.
    """
    outcome = _refund(
        order=order,
        actor=actor,
        amount=amount,
        source=source,
        cause_type=cause_type,
        cause_id=cause_id,
        reason=reason,
        payment=payment,
        currency=currency,
        requested_by=requested_by if requested_by is not None else actor,
        approved_by=approved_by,
        touch=touch,
    )
    if isinstance(outcome, LimitBreach):
        raise RefundProcessingError(
            f"{outcome.message}: a manager must approve it", refund_limit=outcome.limit, currency=outcome.currency
        )
    return outcome


def refund_within_limit(
    *,
    order: Order,
    actor,
    amount: Decimal,
    source: str,
    cause_type: str = RefundCause.NONE,
    cause_id: str = "",
    reason: str = "",
    payment: Payment | None = None,
) -> Refund | LimitBreach:
    """The refund, recorded, when it is within ``actor``'s refund limit on the order; else the ``LimitBreach`` and
    nothing written, for the caller to turn into an approval request. The order row stays locked until the
    caller's transaction ends, so the limit read here holds for what the caller does next."""
    return _refund(
        order=order,
        actor=actor,
        amount=amount,
        source=source,
        cause_type=cause_type,
        cause_id=cause_id,
        reason=reason,
        payment=payment,
        currency=None,
        requested_by=actor,
        approved_by=None,
    )


def _refund(
    *, order: Order, amount, source, currency, payment, requested_by, approved_by, **write
) -> Refund | LimitBreach:
    """Under the order lock: the ledger's rules (422 first: what can never be paid), then, unless a manager
    approved it, the requester's refund limit; within both, the refund is written."""
    with transaction.atomic():
        locked = order_locked(order)
        amount = refund_checked(order=locked, amount=amount, source=source, currency=currency, payment=payment)
        if approved_by is None:
            breach = limit_breach(order=locked, employee=requested_by, amount=amount)
            if breach is not None:
                return breach
        return _refund_write(
            order=locked,
            amount=amount,
            source=source,
            payment=payment,
            requested_by=requested_by,
            approved_by=approved_by,
            **write,
        )


def _refund_write(
    *,
    order: Order,
    actor,
    amount,
    source,
    cause_type,
    cause_id,
    reason,
    payment,
    requested_by,
    approved_by,
    touch: bool = True,
) -> Refund:
    """The ledger row, its history and event, and its processing after commit (every check done, order locked).
    ``touch``: move the order's revision (False when the caller's own save of the order already moved it)."""
    employee = requested_by if getattr(requested_by, "is_authenticated", False) else None
    refund = Refund(
        order=order,
        payment=payment,
        amount=amount,
        currency=order.currency,
        source=source,
        cause_type=cause_type,
        cause_id=cause_id,
        reason=reason[:255],
        requested_by=employee,
        approved_by=approved_by,
    )
    # Without an employee (a fabric API key) the history names the caller through the refund's reason.
    if actor is None:
        history_reason = f"Refund ({source}): {reason}"
    elif approved_by is not None:
        history_reason = f"Refund approved for {employee.get_username() if employee else 'the requester'} ({source})"
    else:
        history_reason = f"Refund requested ({source})"
    save_with_history(refund, actor=actor, reason=history_reason)
    if touch:
        touched = f"Refund {refund.refund_id} recorded" if actor is not None else f"Refund {refund.refund_id}: {reason}"
        order_touch(order, actor=actor, reason=touched)
    event_emit("refund.created", refund, stream_locked=True)  # _refund locked the order
    enqueue_after_commit(process_refund, refund.pk)
    return refund


def refund_process(*, refund_pk: int) -> str:
    """Send a pending refund to its processor (background task). Returns the final status.

    Store credit completes at once. Other sources go through the configured processor; a failed
    refund frees its amount on the order again. The transaction that records the outcome also tells it
    (:func:`_refund_outcome`): a ``refund.completed`` or ``refund.failed`` webhook event, and for a failure a
    ``refund_failed`` notification.
    """

    with transaction.atomic():
        refund = _refund_locked(refund_pk)
        if refund is None or refund.status != RefundStatus.PENDING:
            return refund.status if refund else "missing"
        if refund.source == RefundSource.STORE_CREDIT:
            refund.mark_completed(external_reference=f"store_credit_{refund.refund_id}")
            save_with_history(refund, actor=None, reason="Store credit issued")
            _refund_outcome(refund)
            return refund.status
        refund.start_processing()
        save_with_history(refund, actor=None, reason="Sent to the refund processor")
        order_touch(refund.order, actor=None, reason=f"Refund {refund.refund_id} processing")
    return _refund_send(refund_pk=refund_pk)


def _refund_locked(refund_pk: int) -> Refund | None:
    """The refund row locked, with its order (and requester) read along; None when there is no such refund.

    The order row is locked first: every money write locks it before anything else, and so does ``event_emit``
    (which the outcome calls), so a refund's status change never takes the two locks in the opposite order.
    """
    list(Order.objects.select_for_update(of=("self",)).filter(refunds__pk=refund_pk).values_list("pk", flat=True))
    return (
        Refund.objects.select_for_update(of=("self",))
        .select_related("order", "requested_by")
        .filter(pk=refund_pk)
        .first()
    )


def _refund_outcome(refund: Refund) -> None:
    """Tell a refund's final status, inside the transaction that records it (a rollback tells nothing).

    Completed: the ``refund.completed`` event. Failed: the ``refund.failed`` event and the ``refund_failed``
    signal (``orders.signals``; issues notifies the people concerned). The events carry the refund as the REST API
    shows it, with ``order_id`` (``webhooks.events``), as ``refund.created`` does.
    """
    # the order's representation lists its refunds with their status: its revision (ETag) moves (the order row is
    # locked already, see _refund_locked; the is not taken here, so an issue PATCH, which locks the issue
    # then the order, never waits on a worker the other way round)
    order_touch(refund.order, actor=None, reason=f"Refund {refund.refund_id} {refund.status}")
    if refund.status == RefundStatus.COMPLETED:
        event_emit("refund.completed", refund, stream_locked=True)  # _refund_locked locked the order first
    elif refund.status == RefundStatus.FAILED:
        event_emit("refund.failed", refund, stream_locked=True)
        refund_failed.send(sender=Refund, refund=refund)


def _refund_send(*, refund_pk: int) -> str:
    """Ask the processor for a refund in ``processing`` and record its answer.

    The processor gets the refund's public id as its idempotency key, so asking again for a refund
    whose first answer was lost (worker died) never pays twice.
    """
    from orders.refund_processors import get_refund_processor

    refund = Refund.objects.get(pk=refund_pk)
    try:
        result = get_refund_processor().refund(refund)
    except Exception as exc:  # noqa: BLE001 - a processor crash is a failed refund, never a lost one
        logger.exception("refund processor crashed for %s", refund.refund_id)
        from orders.refund_processors import ProcessorResult

        result = ProcessorResult(ok=False, failure_reason=f"Processor error: {exc}")

    with transaction.atomic():
        refund = _refund_locked(refund_pk)
        if refund is None or refund.status != RefundStatus.PROCESSING:
            return refund.status if refund else "missing"
        if result.ok:
            refund.mark_completed(external_reference=result.external_reference)
            save_with_history(refund, actor=None, reason="Refund completed by the processor")
        else:
            refund.mark_failed(reason=result.failure_reason)
            save_with_history(refund, actor=None, reason=f"Refund failed: {result.failure_reason}"[:100])
        _refund_outcome(refund)
        return refund.status


@transaction.atomic
def category_update(*, actor, category: Category, description: str) -> Category:
    """Categories keep their name (items and clients match on it); only the description changes."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    if category.description != description:
        category.description = description
        save_with_history(category, actor=actor, reason="Category description changed")
    return category


def refunds_retry_stuck(*, older_than: timedelta, now: datetime | None = None, limit: int = 500) -> int:
    """Refunds left ``pending`` (their job was lost: a queue flushed, an enqueue that failed after commit) or
    ``processing`` (the worker died after claiming them) for longer than ``older_than`` are sent again.

    Without this their amount would stay reserved on the order for ever. Sending again is safe: a pending refund
    goes through :func:`refund_process` (which takes it only while still pending, so a late job does nothing), a
    processing one asks the processor again with the refund id as its idempotency key. One refund that errors is
    logged and does not stop the others. Returns how many were sent again (at most ``limit``, oldest first).
    """
    cutoff = (now or timezone.now()) - older_than
    stuck = list(
        Refund.objects.filter(status__in=(RefundStatus.PENDING, RefundStatus.PROCESSING), updated_at__lt=cutoff)
        .order_by("updated_at")
        .values_list("pk", "status")[:limit]
    )
    for pk, status in stuck:
        try:
            if status == RefundStatus.PENDING:
                refund_process(refund_pk=pk)
            else:
                _refund_send(refund_pk=pk)
        except Exception:  # noqa: BLE001 - the next sweep tries it again
            logger.exception("stuck refund %s could not be sent again", pk)
    return len(stuck)


@transaction.atomic
def refund_limit_set(*, limit: Decimal | None, employee=None, role: str = "", actor=None) -> RefundLimit | None:
    """Set (or, with ``limit`` None, remove) an employee's personal refund limit or a role's, with history."""
    if (employee is None) == (not role):
        raise ValidationFailed.single("employee", "Name either an employee or a role")
    if limit is not None:
        limit = Decimal(limit)
        if not limit.is_finite() or limit < ZERO or limit != limit.quantize(CENT):
            raise ValidationFailed.single("limit", "Must be an amount of at least 0.00, with at most two decimals")
    lookup = {"employee": employee} if employee is not None else {"role": role}
    row = RefundLimit.objects.select_for_update().filter(**lookup).first()
    if limit is None:
        if row is not None:
            stamp(row, actor=actor, reason="Refund limit removed")
            row.delete()
        return None
    if row is not None and row.limit == limit:
        return row
    reason = f"Refund limit {row.limit} -> {limit}" if row is not None else f"Refund limit {limit}"
    row = row or RefundLimit(**lookup)
    row.limit = limit
    save_with_history(row, actor=actor, reason=reason)
    return row


# --------------------------------------------------------------------------- background tasks
# Defined beside the services they run, so that the services enqueue them without importing a module that imports
# them back (``orders.tasks`` keeps their old names for jobs queued under them).


@task()
def process_refund(refund_pk: int) -> str:
    return refund_process(refund_pk=refund_pk)


@task()
def notify_fulfillment(order_item_id: str, updated_fields: list[str], updated_by: str) -> None:
    """Tell the kitchen / fulfilment system that an item's metadata changed.

    The fulfilment system's endpoint is not part of this project yet; the message is logged with
    everything the receiver needs.
    """
    fulfillment_logger.info("order item %s updated by %s: %s", order_item_id, updated_by, ", ".join(updated_fields))
