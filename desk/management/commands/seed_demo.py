"""Demo data: categories, employees with known passwords, orders in every status.

Repeatable: orders have deterministic ids (7xxx-xxxx-xxxxx) and existing ones are skipped. Rows
are written in batches, each with its history row (``seed_scale.RowWriter``, through
``bulk_create_with_history``), so history stays complete at scale.
"""

from __future__ import annotations

import argparse
import random
import time
import zlib
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from config.people import employee_upsert
from desk.management import seed_scale as scale
from orders import services
from orders.models import (
    Category,
    Order,
    OrderItem,
    OrderStatus,
    Payment,
    Promotion,
    Refund,
    RefundSource,
    Shipment,
    ShipmentLine,
)

DEMO_EMPLOYEES = [
    ("emp_cs_001", "agent", "agent-demo-001"),
    ("emp_cs_002", "agent", "agent-demo-002"),
    ("emp_mgr_001", "manager", "manager-demo-001"),
    ("svc_demo", "service", None),
]

DEMO_LIMIT = Decimal("25.00")

CATEGORIES = {
    "Home": [
        ("Luminous Cushion Lagoon", "1 count", "4.50"),
        ("Linen Throw Blanket", "Large", "39.00"),
        ("Ceramic Vase", "Medium", "24.00"),
    ],
    "Snacks": [
        ("Pearson Nut Roll King", "1 count", "2.49"),
        ("Sea Salt Crackers", "Small", "3.99"),
        ("Dark Chocolate Almonds", "Medium", "6.75"),
    ],
    "Beverages": [("Cold Brew Coffee", "1 count", "4.25"), ("Sparkling Water 12-pack", "Large", "7.99")],
    "Apparel": [("Merino Wool Socks", "Medium", "18.00"), ("Rain Jacket", "Large", "89.00")],
    "Electronics": [("USB-C Charger", "1 count", "29.99"), ("Wireless Earbuds", "1 count", "79.00")],
    "Beauty": [("Lavender Hand Cream", "Small", "12.00")],
    "Toys": [("Wooden Puzzle", "1 count", "15.50")],
    "Garden": [("Herb Seed Kit", "1 count", "9.95")],
}
FIRST = ["Mark", "Ana", "Wei", "Priya", "John", "Fatima", "Lukas", "Sofia", "Kenji", "Amara"]
LAST = ["Styler", "Garcia", "Chen", "Patel", "Smith", "Khan", "Muller", "Rossi", "Tanaka", "Okafor"]
CITIES = [("Bellevue", "WA", "98004"), ("Austin", "TX", "73301"), ("Denver", "CO", "80202"), ("Boston", "MA", "02108")]
STATUS_WEIGHTS = [
    (OrderStatus.PENDING, 10),
    (OrderStatus.ACCEPTED, 10),
    (OrderStatus.IN_PROGRESS, 15),
    (OrderStatus.COMPLETED, 55),
    (OrderStatus.CANCELED, 10),
]


SCALE_FROM = 10_000  # orders: from here on seed_demo takes the bulk path (see seed_scale.py)


def demo_order_id(index: int) -> str:
    digits = f"{index:012d}"
    return f"7{digits[:3]}-{digits[3:7]}-{digits[7:]}"


class Command(BaseCommand):
    help = "Create demo data (categories, employees with passwords, orders in every status). Repeatable."

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=60, help="How many demo orders (default 60).")
        parser.add_argument("--batch", type=int, default=1000, help="Orders written per transaction.")
        parser.add_argument("--refunds", type=int, default=None, help="Refunds to record through the ledger.")
        parser.add_argument("--issues", type=int, default=None, help="Order issues to walk through the workflow.")
        parser.add_argument(
            "--scale",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"Bulk path: with every new order batch write {scale.ISSUES_PER_ORDER} issues with notes, issue "
            "refunds, appeasements and returns (with history). Default: on from "
            f"{SCALE_FROM:,} orders, off below (the small demo walks issues through the services).",
        )
        parser.add_argument(
            "--no-history",
            action="store_true",
            help="Write the same rows without history rows: only to measure what history costs.",
        )

    def handle(self, *args, orders: int, batch: int, refunds: int | None, issues: int | None, **options):
        self.employees = self.seed_employees()
        self.categories = self.seed_categories()
        use_scale = options.get("scale")
        self.scale = scale.ScaleWriter(self) if (orders >= SCALE_FROM if use_scale is None else use_scale) else None
        self.with_history = not options.get("no_history")
        self.writer = scale.RowWriter(history=self.with_history, user=self.manager)
        if self.scale is not None and connection.vendor == "postgresql":
            # This session only: a commit does not wait for its WAL to reach the disk. A crash may lose the last
            # batches (never half of one); the seed is repeatable and writes them again.
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")
            try:
                self.seed_orders(orders, batch)
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("RESET synchronous_commit")
        else:
            self.seed_orders(orders, batch)
        if self.scale is not None:
            self.scale.report()
            return self.print_logins()
        self.seed_refunds(refunds if refunds is not None else min(max(orders // 10, 3), 200))
        self.seed_issues(issues if issues is not None else min(max(orders // 3, 6), 300))
        self.print_logins()

    # ------------------------------------------------------------------ employees and categories
    def seed_employees(self):
        users = {}
        for employee_id, role, password in DEMO_EMPLOYEES:
            user, token = employee_upsert(
                employee_id=employee_id, role=role, password=password, email=f"{employee_id}@example.com"
            )
            users[employee_id] = (user, token, password, role)
        # The refund policy at work: emp_cs_002 may refund up to 25.00 per order on their own; above it, the demo
        # manager approves (emp_cs_001 has no limit: only what is still refundable bounds their refunds).
        services.refund_limit_set(employee=users["emp_cs_002"][0], limit=DEMO_LIMIT, actor=users["emp_mgr_001"][0])
        return users

    def seed_categories(self):
        existing = {c.name: c for c in Category.objects.all()}
        new = [Category(name=name, description=f"{name} products") for name in CATEGORIES if name not in existing]
        if new:
            bulk_create_with_history(new, Category, default_user=self.manager, default_change_reason="Demo data")
        return {c.name: c for c in Category.objects.all()}

    @property
    def manager(self):
        return self.employees["emp_mgr_001"][0]

    # ------------------------------------------------------------------ orders
    def seed_orders(self, total: int, batch: int) -> None:
        started = time.monotonic()
        created = 0
        for start in range(1, total + 1, batch):
            indexes = range(start, min(start + batch, total + 1))
            ids = [demo_order_id(i) for i in indexes]
            existing = set(Order.objects.filter(order_id__in=ids).values_list("order_id", flat=True))
            todo = [i for i in indexes if demo_order_id(i) not in existing]
            if todo:
                with transaction.atomic():
                    created += self.write_batch(todo)
            done = indexes[-1]
            if total >= batch or done == total:
                rate = created / max(time.monotonic() - started, 1e-6)
                extra = self.scale.progress() if self.scale is not None else ""
                self.stdout.write(f"orders {done}/{total} (new {created}, {rate:,.0f} orders/s){extra}")
        self.stdout.write(self.style.SUCCESS(f"{created} new demo orders, {total - created} already there"))

    def write_batch(self, indexes: list[int]) -> int:
        """New orders with their items, payments and shipments, what each shipment carried and the promotions
        (the whole fabric order: ``seed_scale.fabric_*``), as plain rows (see ``seed_scale.RowWriter``); on the
        bulk path the batch's issues, notes, refunds, appeasements and returns follow."""
        now = timezone.now()
        orders, items, payments, shipments = [], defaultdict(list), {}, []
        statuses = [s for s, _ in STATUS_WEIGHTS]
        weights = [w for _, w in STATUS_WEIGHTS]
        products = [(cat, p) for cat, ps in CATEGORIES.items() for p in ps]
        for index in indexes:
            rnd = random.Random(index)
            first, last = rnd.choice(FIRST), rnd.choice(LAST)
            city, state, zip_code = rnd.choice(CITIES)
            status = rnd.choices(statuses, weights)[0]
            created_at = now - timedelta(days=rnd.randint(0, 90), minutes=rnd.randint(0, 1440))
            order = {
                "order_id": demo_order_id(index),
                "status": status,
                "currency": "USD",
                "channel": rnd.choice([12, 12, 14]),
                "customer_id": f"cust{index % 5000:05d}",
                "customer_first_name": first,
                "customer_last_name": last,
                "customer_email": f"{first.lower()}.{last.lower()}{index % 5000}@example.com",
                "customer_phone": f"555-{rnd.randint(100, 999)}-{rnd.randint(1000, 9999)}",
                "ship_to_street1": f"{rnd.randint(1, 9999)} Main St",
                "ship_to_city": city,
                "ship_to_state": state,
                "ship_to_zip_code": zip_code,
                "ship_to_country": "USA",
                "created_at": created_at,
            }
            fabric = scale.fabric_order(index, order)  # the fabric order's data (its own generator: rnd is unchanged)
            subtotal = tax_total = Decimal("0.00")
            order_lines = []
            for line_number, (cat, (name, size, price)) in enumerate(rnd.sample(products, rnd.randint(1, 4)), 1):
                quantity = rnd.randint(1, 6)
                unit_price = Decimal(price)
                discount = Decimal("1.00") if rnd.random() < 0.2 else Decimal("0.00")
                tax = (quantity * unit_price * Decimal("0.01")).quantize(Decimal("0.01"))
                subtotal += quantity * unit_price - discount
                tax_total += tax
                order_lines.append(
                    {
                        "line_number": line_number,
                        "sku": f"{1538900 + zlib.crc32(name.encode()) % 1000}",
                        "item_id": str(1000000000 + line_number),
                        "store_item_name": name,
                        "category_id": self.categories[cat].pk,
                        "store_item_size": size,
                        "quantity": quantity,
                        "unit_price": unit_price,
                        "discount": discount,
                        "tax": tax,
                        "created_at": created_at,
                        "_total": quantity * unit_price - discount + tax,  # OrderItem.line_total
                    }
                )
                scale.fabric_item(fabric, order_lines[-1], order=order, category=cat, size=size)
            # the totals, as orders.services.order_create computes them: the items, the shipping and its tax
            order["subtotal"], order["tax_total"] = subtotal, tax_total + order["ship_to_estimated_tax"]
            order["order_total"] = subtotal + order["ship_to_price"] + order["tax_total"]
            payment = {
                "payment_group_id": f"pg{index}",
                "payment_method": rnd.choice(["Visa", "Mastercard", "Amex", "PayPal"]),
                "amount": order["order_total"],
                "currency": "USD",
                "created_at": created_at,
            }
            scale.fabric_payment(fabric, payment, order=order)
            shipment = None
            if status in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
                shipment = {
                    "carrier": rnd.choice(["USPS", "FedEx", "UPS"]),
                    "tracking_number": f"9400{index:012d}",
                    "status": "delivered" if status == OrderStatus.COMPLETED else "in_transit",
                    "shipped_date": created_at + timedelta(days=1),
                }
                scale.fabric_shipment(shipment, order=order)
            orders.append(order)
            shipments.append((order, order_lines, payment, shipment))

        self.writer.write(Order, orders)  # each row gets its pk
        for order, order_lines, payment, shipment in shipments:
            for line in order_lines:
                line["order_id"] = order["id"]
            items[order["id"]] = order_lines
            payment["order_id"] = order["id"]
            payments[order["id"]] = payment
            if shipment is not None:
                shipment["order_id"] = order["id"]
        item_rows = self.writer.write(OrderItem, [line for lines in items.values() for line in lines])
        self.writer.write(Payment, list(payments.values()))
        ship_rows = self.writer.write(Shipment, [s for *_, s in shipments if s is not None])
        line_rows, promotion_rows = scale.fabric_rows([(order, lines, s) for order, lines, _p, s in shipments])
        self.writer.write(ShipmentLine, line_rows)
        self.writer.write(Promotion, promotion_rows)
        if self.scale is not None:
            written = len(orders) + len(item_rows) + len(payments) + len(ship_rows)
            self.scale.count(written + len(line_rows) + len(promotion_rows))
            self.scale.write_batch(orders, items, payments)
        return len(orders)

    # ------------------------------------------------------------------ refunds, through the ledger
    def seed_refunds(self, how_many: int) -> None:
        agent = self.employees["emp_cs_001"][0]
        already = set(Refund.objects.filter(reason="Demo goodwill refund").values_list("order_id", flat=True))
        candidates = (
            Order.objects.filter(status=OrderStatus.COMPLETED, order_id__startswith="7")
            .exclude(pk__in=already)
            .order_by("order_id")[: max(how_many - len(already), 0)]
        )
        made = 0
        for n, order in enumerate(candidates):
            amount = (order.order_total * Decimal("0.25")).quantize(Decimal("0.01"))
            if amount <= 0:
                continue
            source = [RefundSource.MERCHANT, RefundSource.STORE_CREDIT, RefundSource.PLATFORM][n % 3]
            services.refund_record(
                order=order, actor=agent, amount=amount, source=source, reason="Demo goodwill refund"
            )
            made += 1
        self.stdout.write(f"{made} demo refunds recorded through the ledger (the worker processes them)")

    # ------------------------------------------------------------------ order issues, through the workflow
    def seed_issues(self, how_many: int) -> None:
        """Issues in every status, each walked through the real services (history, notes, approvals)."""
        from issues.models import IssueType, OrderIssue
        from issues.services import issue_create, issue_update

        agent, other = self.employees["emp_cs_001"][0], self.employees["emp_cs_002"][0]
        manager = self.manager
        have = set(OrderIssue.objects.filter(title__startswith="[demo]").values_list("order_id", flat=True))
        orders = list(
            Order.objects.filter(order_id__startswith="7", status__in=[OrderStatus.COMPLETED, OrderStatus.IN_PROGRESS])
            .exclude(pk__in=have)
            .order_by("order_id")[: max(how_many - len(have), 0)]
        )
        plans = [
            [],
            ["investigating"],
            ["investigating", "in_progress"],
            ["investigating", "in_progress", "resolved"],
            ["investigating", "in_progress", "resolved", "closed"],
            ["investigating", "escalated!"],
            ["investigating", "escalated?"],
            ["investigating", "in_progress", "follow_up"],
        ]
        types = list(IssueType.values)
        made = 0
        for n, order in enumerate(orders):
            rnd = random.Random(order.pk)
            item = order.items.order_by("line_number").first()
            issue_type = types[n % len(types)]
            assignee = agent if n % 3 else other
            issue = issue_create(
                order_id=order.order_id,
                actor=assignee,
                data={
                    "issue_type": issue_type,
                    "title": f"[demo] {issue_type.replace('_', ' ').capitalize()} on {item.store_item_name}",
                    "description": "Customer called about this order.",
                    "priority": rnd.choice(["low", "medium", "medium", "high", "critical"]),
                    "order_item_ids": [item.order_item_id],
                    "assigned_to": assignee.username,
                    "notes": "Customer contacted by phone; details recorded.",
                },
            )
            for step in plans[n % len(plans)]:
                if step == "escalated!":
                    changes, actor = {"status": "escalated", "notes": "Escalated by the duty manager."}, manager
                elif step == "escalated?":
                    changes, actor = {"status": "escalated", "notes": "Customer threatens chargeback."}, assignee
                elif step == "follow_up":
                    changes = {
                        "follow_up_required": True,
                        "follow_up_date": timezone.now() + timedelta(hours=rnd.randint(-20, 48)),
                        "notes": "Waiting for the customer's photos.",
                    }
                    actor = assignee
                elif step == "resolved":
                    changes = {
                        "status": "resolved",
                        "notes": "Refund issued for the affected item.",
                        "resolution_description": "Partial refund for the affected item.",
                        "customer_satisfied": rnd.random() < 0.8,
                        "refund_amount": min(item.line_total, Decimal("5.00")),
                        "refund_source": "merchant",
                    }
                    actor = assignee
                elif step == "closed":
                    changes, actor = {"status": "closed", "notes": "Customer confirmed; closing."}, manager
                else:
                    changes, actor = {"status": step, "notes": f"Moved to {step.replace('_', ' ')}."}, assignee
                try:
                    issue_update(order_id=order.order_id, issue_id=issue.issue_id, actor=actor, changes=changes)
                except Exception as exc:  # noqa: BLE001 - demo data: report and carry on
                    self.stderr.write(f"demo issue {issue.issue_id}: {step} refused: {exc}")
                    break
            made += 1
        self.stdout.write(f"{made} demo issues walked through the workflow")

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Demo logins (admin at /admin/, API token for Authorization: Token ...):"))
        from orders.refund_policy import refund_limit

        for employee_id, (user, token, password, role) in self.employees.items():
            login = f"password {password}" if password else "API only"
            limit = refund_limit(user)
            policy = f"  refund limit {limit} per order" if limit is not None else ""
            policy += "  (acts for agents)" if role == "service" else ""
            self.stdout.write(f"  {role:8} {employee_id:12} {login:28} token {token}{policy}")
