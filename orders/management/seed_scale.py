"""The bulk path of ``seed_demo`` for data at scale (``seed_demo --orders 200000``: about a million issues).

With every batch of new orders (same transaction) it writes, each row with its history row:
``ISSUES_PER_ORDER`` issues in every status (SLA deadlines scheduled, one affected item), one or two notes
each, a ledger refund for each resolved or closed issue, an appeasement with its refund on every fourth
order and a whole-order return on every tenth completed one. Nothing is kept between batches, so memory
stays flat however many orders there are. The small default demo keeps walking issues through the services.

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

ISSUES_PER_ORDER = 5
CENT = Decimal("0.01")
STATUS_PLAN = ["open", "investigating", "in_progress", "resolved", "closed", "open", "escalated", "investigating"]


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
            if order["status"] == OrderStatus.COMPLETED and pk % 10 == 0 and self.return_reasons:
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
