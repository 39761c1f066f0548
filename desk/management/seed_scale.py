"""The bulk path of ``seed_demo`` for data at scale (``seed_demo --orders 200000``: about a million issues).

With every batch of new orders (same transaction) it writes, each row with its history row:
``ISSUES_PER_ORDER`` issues in every status (SLA deadlines scheduled, one affected item), one or two notes
each, a ledger refund for each resolved or closed issue, an appeasement with its refund on every fourth
order and a whole-order return on every second completed one (so that the 1k-issue bench data fills a page of
returns, as the 1M one does). Nothing is kept between batches, so memory stays flat however many orders there
are. The small default demo keeps walking issues through the services.

Rows are plain dicts by field ``attname``, written by :class:`RowWriter` with ``bulk_create_with_history`` (DESIGN
rule 5: bulk writes on tracked models go through simple-history's helpers). The orders, items and payments of a
batch are handed to the scale writer as written, not read back.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

from django.conf import settings
from django.utils import timezone
from simple_history.exceptions import NotHistoricalModelError
from simple_history.utils import bulk_create_with_history, get_history_model_for_model

from orders.ledger import CENT

ISSUES_PER_ORDER = 5
STATUS_PLAN = ["open", "investigating", "in_progress", "resolved", "closed", "open", "escalated", "investigating"]


# ---------------------------------------------------------------------- the fabric order's data (docs/api/fabric.md)
# The demo's and the bench's orders carry the whole fabric order: ship-to pricing, tax and choices, item data,
# billing addresses, cards and tokens, what each shipment carried and the promotions. Plain values computed per
# row, no query: the order rows of seed_demo get them before they are written, the shipment lines and promotions
# are rows of the same batch (``fabric_rows``).

SHIPPING = [  # method, method id, carrier chosen, price
    ("Standard", "10000002", "USPS", Decimal("5.99")),
    ("Express", "10000001", "FedEx", Decimal("14.99")),
    ("Free shipping", "10000003", "UPS", Decimal("0.00")),
]
SHIPPING_TAX_RATE = Decimal("0.08")
CARRIER_URLS = {
    "USPS": "https://tools.usps.com/go/TrackConfirmAction?tLabels={}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={}",
    "UPS": "https://www.ups.com/track?tracknum={}",
}
TAX_CODES = {"Snacks": "PF050000", "Beverages": "PF050100", "Apparel": "PC040100"}  # else FR020000
WEIGHTS = {"Small": ("6", "oz"), "Medium": ("1.5", "lb"), "Large": ("3.2", "lb"), "1 count": ("0.5", "lb")}
WAREHOUSES = {"Bellevue": "WH-SEA-01", "Austin": "WH-AUS-01", "Denver": "WH-DEN-01", "Boston": "WH-BOS-01"}
DELIVERED = ("completed", "partially_returned", "returned")


def fabric_order(index: int, order: dict) -> random.Random:
    """Fill the order row with the fabric order's data; returns the order's own generator for its item, payment and
    shipment data (the demo's other values keep drawing from theirs, so they stay what they were)."""
    rnd = random.Random(f"fabric-{index}")
    method, method_id, carrier, price = rnd.choice(SHIPPING)
    tax = (price * SHIPPING_TAX_RATE).quantize(CENT)
    order.update(
        customer_middle_name=rnd.choice(["", "", "J", "p", "Lee"]),
        customer_phone_kind=rnd.choice(["mobile", "mobile", "home", "work"]),
        ship_to_street2=rnd.choice(["", "", "Suite 500", "Apt 4B"]),
        ship_to_is_validated=rnd.random() < 0.8,
        ship_to_price=price,
        ship_to_estimated_tax=tax,
        ship_to_committed_tax=tax if order["status"] in DELIVERED else Decimal("0.00"),
        ship_to_tax_code="FR020000",
        ship_to_carrier=carrier,
        ship_to_method=method,
        ship_to_method_id=method_id,
        ship_to_promised_delivery_date=order["created_at"] + timedelta(days=2 if method == "Express" else 5),
        ship_to_instructions=rnd.choice(["", "", "Leave at back door", "Ring the bell twice"]),
        tags=rnd.choice([[], [], ["vip"], ["gift"], ["vip", "gift"]]),
        events=[{"type": "order_placed", "channel": order["channel"]}],
        attributes=[{"name": "giftWrap", "value": True}] if rnd.random() < 0.1 else [],
    )
    return rnd


def fabric_item(rnd: random.Random, line: dict, *, order: dict, category: str, size: str) -> None:
    weight, unit = WEIGHTS.get(size, ("1", "lb"))
    line.update(
        item_group=rnd.choice(["", "Bestsellers", "New arrivals"]),
        tax_code=TAX_CODES.get(category, "FR020000"),
        weight=Decimal(weight),
        weight_unit=unit,
        reserved_location=WAREHOUSES.get(order["ship_to_city"], "WH-SEA-01") if order["status"] != "pending" else "",
        attributes=[{"name": "size", "value": size}],
    )


def fabric_payment(rnd: random.Random, payment: dict, *, order: dict) -> None:
    """A card's last four digits and a token; the billing address is the ship-to's, on the customer's name."""
    card = payment["payment_method"] != "PayPal"
    payment.update(
        payment_kind="Default payment",
        card_last_four=f"{rnd.randint(0, 9999):04d}" if card else "",
        token_reference=str(rnd.randint(10**8, 10**9 - 1)),
        bill_to_first_name=order["customer_first_name"],
        bill_to_middle_name=order["customer_middle_name"],
        bill_to_last_name=order["customer_last_name"],
        bill_to_email=order["customer_email"],
        bill_to_phone=order["customer_phone"],
        bill_to_phone_kind=order["customer_phone_kind"],
        bill_to_street1=order["ship_to_street1"],
        bill_to_street2=order["ship_to_street2"],
        bill_to_city=order["ship_to_city"],
        bill_to_state=order["ship_to_state"],
        bill_to_zip_code=order["ship_to_zip_code"],
        bill_to_country=order["ship_to_country"],
        bill_to_is_validated=order["ship_to_is_validated"],
    )


def fabric_shipment(shipment: dict, *, order: dict) -> None:
    """Shipped by the carrier the customer chose, with its tracking page; delivered two days later."""
    shipment["carrier"] = order["ship_to_carrier"]
    shipment["carrier_url"] = CARRIER_URLS[shipment["carrier"]].format(shipment["tracking_number"])
    if order["status"] in DELIVERED:
        shipment["delivered_date"] = shipment["shipped_date"] + timedelta(days=2)


def fabric_rows(batch: list[tuple[dict, list[dict], dict | None]]) -> tuple[list[dict], list[dict]]:
    """The shipment lines and promotions of a batch of written (order, items, shipment) rows: a shipment carries
    every item whole; free shipping is a FREESHIP promotion on the ship-to, a discounted item a SAVE1 one."""
    lines, promotions = [], []
    for order, items, shipment in batch:
        if shipment is not None:
            lines += [
                {"shipment_id": shipment["id"], "order_item_id": item["id"], "quantity": item["quantity"]}
                for item in items
            ]
        if not order["ship_to_price"]:
            promotions.append({"order_id": order["id"], "name": "FREESHIP", "created_at": order["created_at"]})
        promotions += [
            {"order_id": order["id"], "order_item_id": item["id"], "name": "SAVE1", "created_at": order["created_at"]}
            for item in items
            if item["discount"]
        ]
    return lines, promotions


class RowWriter:
    """Writes plain rows (dicts by field attname) of a model and, where the model has history, one history row
    each: what ``bulk_create_with_history`` writes (``history_type`` "+", the default user and change reason,
    ``history_date`` from the row's ``_history_date`` or now), in the same transaction.

    Both go in through ``bulk_create_with_history`` (DESIGN rule 5). A binary ``COPY`` of the same rows and
    history rows was 3.4x faster on PostgreSQL (6,900 vs 2,100 rows/s at 4,000 orders) but is a bulk write
    outside simple-history's helpers, which the rule forbids. The row dicts get their primary key and every
    default filled in (``issue_id``, ``order_item_id``, ...). Keys starting with ``_`` are not columns.
    """

    def __init__(self, *, history: bool, user, reason: str = "Demo data") -> None:
        self.history = history and getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
        self.user = user
        self.reason = reason

    def write(self, model, rows: list[dict]) -> list[dict]:
        if rows:
            self._orm(model, rows)
        return rows

    def _orm(self, model, rows: list[dict]) -> None:
        objs = []
        for row in rows:
            obj = model(**{k: v for k, v in row.items() if not k.startswith("_")})
            if "_history_date" in row:
                obj._history_date = row["_history_date"]
            objs.append(obj)
        try:
            get_history_model_for_model(model)
            tracked = True
        except NotHistoricalModelError:
            tracked = False
        if self.history and tracked:
            bulk_create_with_history(objs, model, default_user=self.user, default_change_reason=self.reason)
        else:
            model.objects.bulk_create(objs)
        attnames = [f.attname for f in model._meta.concrete_fields]
        for row, obj in zip(rows, objs, strict=True):
            row.update((a, getattr(obj, a)) for a in attnames)


class ScaleWriter:
    def __init__(self, command) -> None:
        from appeasements.models import AppeasementReason, RefundType
        from returns.models import ReasonKind, ReturnReason

        self.cmd = command
        self.started = time.monotonic()
        self.rows: dict[str, int] = defaultdict(int)
        self.agents = [command.employees["emp_cs_001"][0], command.employees["emp_cs_002"][0]]
        self.manager = command.manager
        self.reasons = list(AppeasementReason.objects.order_by("pk").values_list("pk", flat=True))
        refund_type = RefundType.objects.filter(requires_payment_group=True).order_by("pk").first()
        self.refund_type = refund_type or RefundType.objects.order_by("pk").first()
        self.return_reasons = list(
            ReturnReason.objects.filter(kind=ReasonKind.RETURN, is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def count(self, n: int, name: str = "orders") -> None:
        self.rows[name] += n

    def total(self) -> int:
        return sum(self.rows.values())

    def progress(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        return f"; issues {self.rows['issues']:,}; rows {self.total():,} ({self.total() / elapsed:,.0f} rows/s)"

    def report(self) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        history = "with history" if self.cmd.with_history else "WITHOUT history"
        detail = ", ".join(f"{name} {n:,}" for name, n in sorted(self.rows.items()))
        self.cmd.stdout.write(
            f"scale rows {self.total():,} in {elapsed:,.1f}s = {self.total() / elapsed:,.0f} rows/s ({history}; "
            f"history rows not counted): {detail}"
        )

    # ------------------------------------------------------------------ one batch of orders
    def write_batch(self, orders: list[dict], items: dict[int, list[dict]], payments: dict[int, dict]) -> None:
        """``orders``, their ``items`` and ``payments`` (by order pk): the rows just written for this batch."""
        from appeasements.models import Appeasement, AppeasementRefund, AppeasementState
        from issues import sla
        from issues.models import IssueNote, IssueStatus, IssueType, OrderIssue
        from orders.models import OrderStatus, Refund, RefundCause, RefundStatus
        from returns.models import Return, ReturnChannel, ReturnLine, ReturnScope

        now = timezone.now()
        write = self.cmd.writer.write
        types = list(IssueType.values)
        priorities = ["low", "medium", "medium", "high", "critical"]
        agents = [a.pk for a in self.agents]

        issues, links = [], []
        for order in orders:
            pk = order["id"]
            rnd = random.Random(pk)
            order_items = items[pk]
            for n in range(ISSUES_PER_ORDER):
                status = STATUS_PLAN[(pk * ISSUES_PER_ORDER + n) % len(STATUS_PLAN)]
                created = min(order["created_at"] + timedelta(hours=rnd.randint(1, 240)), now - timedelta(minutes=5))
                assignee = agents[(pk + n) % 2]
                issue_type = types[(pk + n) % len(types)]
                issue = {
                    "order_id": pk,
                    "issue_type": issue_type,
                    "title": f"[scale] {issue_type.replace('_', ' ')} on {order['order_id']}",
                    "description": "Customer called about this order.",
                    "status": status,
                    "priority": rnd.choice(priorities),
                    "assigned_to_id": assignee,
                    "created_by_id": assignee,
                    "created_at": created,
                    "customer_satisfied": (rnd.random() < 0.8) if status in ("resolved", "closed") else None,
                    "follow_up_required": status == "in_progress" and rnd.random() < 0.3,
                    "_history_date": created,
                    "_order": order,
                }
                if issue["follow_up_required"]:
                    issue["follow_up_date"] = now + timedelta(hours=rnd.randint(-20, 48))
                if status != IssueStatus.OPEN:
                    issue["first_response_at"] = created + timedelta(minutes=rnd.randint(5, 600))
                if status in (IssueStatus.RESOLVED, IssueStatus.CLOSED):
                    issue["resolved_at"] = min(created + timedelta(hours=rnd.randint(2, 96)), now)
                    issue["resolution_description"] = "Partial refund for the affected item."
                if status == IssueStatus.CLOSED:
                    issue["closed_at"] = issue["resolved_at"]
                deadlines = SimpleNamespace(priority=issue["priority"], created_at=created, sla_paused=None)
                sla.schedule(deadlines)  # the same deadlines OrderIssue.save() would schedule
                issue["first_response_due_at"] = deadlines.first_response_due_at
                issue["resolution_due_at"] = deadlines.resolution_due_at
                issues.append(issue)
                if order_items:
                    links.append((issue, order_items[n % len(order_items)]))
        write(OrderIssue, issues)
        links = [{"orderissue_id": issue["id"], "orderitem_id": item["id"]} for issue, item in links]
        write(OrderIssue.affected_items.through, links)

        notes, refunds = [], []
        for issue in issues:
            author = issue["assigned_to_id"]
            body = "Customer contacted by phone; details recorded."
            notes.append(
                {"issue_id": issue["id"], "author_id": author, "body": body, "created_at": issue["created_at"]}
            )
            resolved = issue.get("resolved_at")
            if resolved is not None:
                body = "Refund issued for the affected item."
                notes.append({"issue_id": issue["id"], "author_id": author, "body": body, "created_at": resolved})
                order = issue["_order"]
                refunds.append(
                    {
                        "order_id": order["id"],
                        "amount": min(Decimal("1.00"), (order["order_total"] / 10).quantize(CENT)),
                        "currency": order["currency"],
                        "source": "merchant",
                        "cause_type": RefundCause.ISSUE,
                        "cause_id": issue["issue_id"],
                        "reason": body,
                        "status": RefundStatus.COMPLETED,
                        "requested_by_id": author,
                        "created_at": resolved,
                        "processed_at": resolved,
                    }
                )
        write(IssueNote, notes)

        appeasements, returns = [], []
        for order in orders:
            pk = order["id"]
            if pk % 4 == 0 and self.reasons:
                appeasements.append(
                    {
                        "order_id": pk,
                        "profile_id": order["customer_id"] or "cust",
                        "agent_id": agents[pk % 2],
                        "reason_id": self.reasons[pk % len(self.reasons)],
                        "notes": "Goodwill credit for the delay.",
                        "state": AppeasementState.SUBMITTED,
                        "created_at": order["created_at"] + timedelta(days=1),
                        "submitted_at": order["created_at"] + timedelta(days=1),
                        "_order": order,
                    }
                )
            if order["status"] == OrderStatus.COMPLETED and pk % 2 == 0 and self.return_reasons:
                returns.append(
                    {
                        "order_id": pk,
                        "scope": ReturnScope.ORDER,
                        "reason_id": self.return_reasons[pk % len(self.return_reasons)],
                        "message": "Customer sent the order back.",
                        "currency": order["currency"],
                        "created_via": ReturnChannel.ADMIN,
                        "created_by_id": self.manager.pk,
                        "created_by_label": self.manager.username,
                        "created_at": order["created_at"] + timedelta(days=3),
                    }
                )
        write(Appeasement, appeasements)
        appeasement_refunds = []
        for appeasement in appeasements:
            order = appeasement["_order"]
            refund = {
                "order_id": order["id"],
                "amount": min(Decimal("2.00"), (order["order_total"] / 10).quantize(CENT)),
                "currency": order["currency"],
                "source": "store_credit",
                "cause_type": RefundCause.APPEASEMENT,
                "cause_id": appeasement["appeasement_id"],
                "reason": "Goodwill credit for the delay.",
                "status": RefundStatus.COMPLETED,
                "requested_by_id": appeasement["agent_id"],
                "created_at": appeasement["created_at"],
                "processed_at": appeasement["created_at"],
            }
            refunds.append(refund)
            payment = payments.get(order["id"])
            appeasement_refunds.append(
                {
                    "appeasement_id": appeasement["id"],
                    "refund_type_id": self.refund_type.pk if self.refund_type else None,
                    "payment_group_id": payment["payment_group_id"] if payment else "",
                    "payment_id": payment["id"] if payment else None,
                    "amount": refund["amount"],
                    "currency_code": refund["currency"],
                    "state": "COMPLETE",
                    "created_at": appeasement["created_at"],
                    "_refund": refund,
                }
            )
        write(Refund, refunds)
        for appeasement_refund in appeasement_refunds:
            appeasement_refund["ledger_refund_id"] = appeasement_refund["_refund"]["id"]
        write(AppeasementRefund, appeasement_refunds)
        write(Return, returns)
        lines = [
            {
                "return_obj_id": r["id"],
                "order_item_id": item["id"],
                "quantity": item["quantity"],
                "amount": item["_total"],
            }
            for r in returns
            for item in items[r["order_id"]]
        ]
        write(ReturnLine, lines)
        for name, n in (
            ("issues", len(issues)),
            ("issue_items", len(links)),
            ("notes", len(notes)),
            ("refunds", len(refunds)),
            ("appeasements", len(appeasements) + len(appeasement_refunds)),
            ("returns", len(returns) + len(lines)),
        ):
            self.count(n, name)
