"""The bulk path of ``seed_demo`` for data at scale (``seed_demo --orders 200000``: about a million issues).

With every batch of new orders (same transaction) it writes, with ``bulk_create_with_history``:
``ISSUES_PER_ORDER`` issues in every status (SLA deadlines scheduled, one affected item), one or two notes
each, a ledger refund for each resolved or closed issue, an appeasement with its refund on every fourth
order and a whole-order return on every tenth completed one. Nothing is kept between batches, so memory
stays flat however many orders there are. The small default demo keeps walking issues through the services.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

ISSUES_PER_ORDER = 5
CENT = Decimal("0.01")
STATUS_PLAN = ["open", "investigating", "in_progress", "resolved", "closed", "open", "escalated", "investigating"]


class ScaleWriter:
    def __init__(self, command) -> None:
        from appeasements.models import AppeasementReason, RefundType
        from returns.models import ReasonKind, ReturnReason

        self.cmd = command
        self.started = time.monotonic()
        self.rows: dict[str, int] = defaultdict(int)
        self.agents = [command.employees["emp_cs_001"][0], command.employees["emp_cs_002"][0]]
        self.manager = command.manager
        self.reasons = list(AppeasementReason.objects.order_by("pk"))
        self.refund_type = RefundType.objects.filter(requires_payment_group=True).order_by("pk").first()
        self.refund_type = self.refund_type or RefundType.objects.order_by("pk").first()
        self.return_reasons = list(ReturnReason.objects.filter(kind=ReasonKind.RETURN, is_active=True).order_by("pk"))

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
    def write_batch(self, order_ids: list[str]) -> None:
        from appeasements.models import Appeasement, AppeasementRefund, AppeasementState
        from issues import sla
        from issues.models import IssueNote, IssueStatus, IssueType, OrderIssue
        from orders.models import Order, OrderItem, OrderStatus, Payment, Refund, RefundCause, RefundStatus
        from returns.models import Return, ReturnChannel, ReturnLine, ReturnScope

        now = timezone.now()
        bulk = self.cmd.bulk
        orders = list(
            Order.objects.filter(order_id__in=order_ids)
            .order_by("pk")
            .only("pk", "order_id", "status", "currency", "customer_id", "order_total", "created_at")
        )
        items = defaultdict(list)
        for item in OrderItem.objects.filter(order__in=orders).order_by("order_id", "line_number"):
            items[item.order_id].append(item)
        payments = {p.order_id: p for p in Payment.objects.filter(order__in=orders)}
        types = list(IssueType.values)
        priorities = ["low", "medium", "medium", "high", "critical"]

        issues, plans = [], []
        for order in orders:
            rnd = random.Random(order.pk)
            for n in range(ISSUES_PER_ORDER):
                status = STATUS_PLAN[(order.pk * ISSUES_PER_ORDER + n) % len(STATUS_PLAN)]
                created = min(order.created_at + timedelta(hours=rnd.randint(1, 240)), now - timedelta(minutes=5))
                assignee = self.agents[(order.pk + n) % 2]
                issue = OrderIssue(
                    order=order,
                    issue_type=types[(order.pk + n) % len(types)],
                    title=f"[scale] {types[(order.pk + n) % len(types)].replace('_', ' ')} on {order.order_id}",
                    description="Customer called about this order.",
                    status=status,
                    priority=rnd.choice(priorities),
                    assigned_to=assignee,
                    created_by=assignee,
                    created_at=created,
                    customer_satisfied=(rnd.random() < 0.8) if status in ("resolved", "closed") else None,
                    follow_up_required=status == "in_progress" and rnd.random() < 0.3,
                )
                if issue.follow_up_required:
                    issue.follow_up_date = now + timedelta(hours=rnd.randint(-20, 48))
                if status != IssueStatus.OPEN:
                    issue.first_response_at = created + timedelta(minutes=rnd.randint(5, 600))
                if status in (IssueStatus.RESOLVED, IssueStatus.CLOSED):
                    issue.resolved_at = min(created + timedelta(hours=rnd.randint(2, 96)), now)
                    issue.resolution_description = "Partial refund for the affected item."
                if status == IssueStatus.CLOSED:
                    issue.closed_at = issue.resolved_at
                sla.schedule(issue)
                issue._history_date = created
                issues.append(issue)
                plans.append(items[order.pk][n % len(items[order.pk])] if items[order.pk] else None)
        bulk(issues, OrderIssue)
        through = OrderIssue.affected_items.through
        links = [
            through(orderissue_id=i.pk, orderitem_id=item.pk) for i, item in zip(issues, plans, strict=True) if item
        ]
        through.objects.bulk_create(links)

        notes, refunds = [], []
        for issue in issues:
            notes.append(
                IssueNote(
                    issue=issue,
                    author=issue.assigned_to,
                    body="Customer contacted by phone; details recorded.",
                    created_at=issue.created_at,
                )
            )
            if issue.resolved_at is not None:
                notes.append(
                    IssueNote(
                        issue=issue,
                        author=issue.assigned_to,
                        body="Refund issued for the affected item.",
                        created_at=issue.resolved_at,
                    )
                )
                refunds.append(
                    Refund(
                        order=issue.order,
                        amount=min(Decimal("1.00"), (issue.order.order_total / 10).quantize(CENT)),
                        currency=issue.order.currency,
                        source="merchant",
                        cause_type=RefundCause.ISSUE,
                        cause_id=issue.issue_id,
                        reason="Refund issued for the affected item.",
                        status=RefundStatus.COMPLETED,
                        requested_by=issue.assigned_to,
                        created_at=issue.resolved_at,
                        processed_at=issue.resolved_at,
                    )
                )
        bulk(notes, IssueNote)

        appeasements, returns = [], []
        for order in orders:
            if order.pk % 4 == 0 and self.reasons:
                appeasements.append(
                    Appeasement(
                        order=order,
                        profile_id=order.customer_id or "cust",
                        agent=self.agents[order.pk % 2],
                        reason=self.reasons[order.pk % len(self.reasons)],
                        notes="Goodwill credit for the delay.",
                        state=AppeasementState.SUBMITTED,
                        created_at=order.created_at + timedelta(days=1),
                        submitted_at=order.created_at + timedelta(days=1),
                    )
                )
            if order.status == OrderStatus.COMPLETED and order.pk % 10 == 0 and self.return_reasons:
                returns.append(
                    Return(
                        order=order,
                        scope=ReturnScope.ORDER,
                        reason=self.return_reasons[order.pk % len(self.return_reasons)],
                        message="Customer sent the order back.",
                        currency=order.currency,
                        created_via=ReturnChannel.ADMIN,
                        created_by=self.manager,
                        created_by_label=self.manager.username,
                        created_at=order.created_at + timedelta(days=3),
                    )
                )
        bulk(appeasements, Appeasement)
        appeasement_refunds = []
        for appeasement in appeasements:
            refund = Refund(
                order=appeasement.order,
                amount=min(Decimal("2.00"), (appeasement.order.order_total / 10).quantize(CENT)),
                currency=appeasement.order.currency,
                source="store_credit",
                cause_type=RefundCause.APPEASEMENT,
                cause_id=appeasement.appeasement_id,
                reason="Goodwill credit for the delay.",
                status=RefundStatus.COMPLETED,
                requested_by=appeasement.agent,
                created_at=appeasement.created_at,
                processed_at=appeasement.created_at,
            )
            refunds.append(refund)
            payment = payments.get(appeasement.order_id)
            appeasement_refunds.append(
                AppeasementRefund(
                    appeasement=appeasement,
                    refund_type=self.refund_type,
                    payment_group_id=payment.payment_group_id if payment else "",
                    payment=payment,
                    amount=refund.amount,
                    currency_code=refund.currency,
                    state="COMPLETE",
                    ledger_refund=refund,
                    created_at=appeasement.created_at,
                )
            )
        bulk(refunds, Refund)
        for appeasement_refund in appeasement_refunds:
            appeasement_refund.ledger_refund_id = appeasement_refund.ledger_refund.pk
        bulk(appeasement_refunds, AppeasementRefund)
        bulk(returns, Return)
        lines = [
            ReturnLine(return_obj=r, order_item=item, quantity=item.quantity, amount=item.line_total)
            for r in returns
            for item in items[r.order_id]
        ]
        bulk(lines, ReturnLine)
        for name, n in (
            ("issues", len(issues)),
            ("issue_items", len(links)),
            ("notes", len(notes)),
            ("refunds", len(refunds)),
            ("appeasements", len(appeasements) + len(appeasement_refunds)),
            ("returns", len(returns) + len(lines)),
        ):
            self.count(n, name)
