"""Reads for issues: list/detail querysets with bounded queries, the audit timeline and the metrics."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DurationField, ExpressionWrapper, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from issues import sla
from issues.models import ApprovalRequest, ApprovalState, IssueNote, OrderIssue
from orders.models import OrderItem, Refund, RefundCause, RefundStatus


def issue_list() -> QuerySet[OrderIssue]:
    return OrderIssue.objects.select_related("order", "assigned_to", "created_by").prefetch_related(
        Prefetch("affected_items", queryset=OrderItem.objects.only("id", "order_item_id"))
    )


def issue_detail() -> QuerySet[OrderIssue]:
    return issue_list().prefetch_related(
        Prefetch("notes", queryset=IssueNote.objects.select_related("author").order_by("created_at", "id")),
        Prefetch(
            "approval_requests",
            queryset=ApprovalRequest.objects.filter(state=ApprovalState.PENDING).select_related("requested_by"),
            to_attr="pending_approvals",
        ),
    )


def follow_up_due_q(now: datetime | None = None) -> Q:
    return Q(follow_up_required=True, follow_up_date__lte=now or timezone.now())


def approval_list() -> QuerySet[ApprovalRequest]:
    return ApprovalRequest.objects.select_related("issue", "requested_by", "decided_by")


# --------------------------------------------------------------------------- audit trail

TRACKED = (
    "status",
    "priority",
    "assigned_to",
    "title",
    "description",
    "issue_type",
    "resolution_description",
    "customer_satisfied",
    "follow_up_required",
    "follow_up_date",
    "reopen_count",
)


def _value(record, field: str) -> Any:
    if field == "assigned_to":
        return record.assigned_to.username if record.assigned_to_id and record.assigned_to else None
    return getattr(record, field)


def issue_history(issue: OrderIssue) -> dict[str, list[dict[str, Any]]]:
    """The status timeline and every field change (old and new value, who, when), oldest first."""
    records = list(issue.history.select_related("history_user", "assigned_to").order_by("history_date", "history_id"))
    timeline, changes = [], []
    previous = None
    for record in records:
        who = record.history_user.username if record.history_user else None
        when = record.history_date
        if previous is None or previous.status != record.status:
            timeline.append(
                {
                    "status": record.status,
                    "from_status": previous.status if previous else None,
                    "changed_by": who,
                    "changed_at": when,
                    "reason": record.history_change_reason or "",
                }
            )
        if previous is not None:
            for field in TRACKED:
                old, new = _value(previous, field), _value(record, field)
                if old != new:
                    changes.append(
                        {"field": field, "old_value": old, "new_value": new, "changed_by": who, "changed_at": when}
                    )
        previous = record
    return {"timeline": timeline, "changes": changes}


# --------------------------------------------------------------------------- metrics

_DURATION = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())


def _percentile(durations: QuerySet, count: int, fraction: float) -> timedelta | None:
    """Linear-interpolated percentile (PostgreSQL's percentile_cont) with ORDER BY + OFFSET: at most two rows read."""
    if count == 0:
        return None
    position = fraction * (count - 1)
    low = int(position)
    values = list(durations[low : low + 2])
    if len(values) == 1 or position == low:
        return values[0]
    return values[0] + (values[1] - values[0]) * (position - low)


def issue_metrics(
    *, created_after: datetime | None = None, created_before: datetime | None = None, now: datetime | None = None
) -> dict:
    now = now or timezone.now()
    issues = OrderIssue.objects.all()
    if created_after:
        issues = issues.filter(created_at__gte=created_after)
    if created_before:
        issues = issues.filter(created_at__lt=created_before)

    def counts(field: str) -> dict[str, int]:
        rows = issues.order_by().values(field).annotate(n=Count("id"))
        return {row[field]: row["n"] for row in rows}

    n = sla.now_value(now)
    totals = sla.annotate(issues.order_by(), now).aggregate(
        total=Count("id"),
        breached=Count("id", filter=sla.breached_q(n)),
        first_response_breached=Count("id", filter=sla.first_response_breached_q(n)),
        resolution_breached=Count("id", filter=sla.resolution_breached_q(n)),
        answered=Count("id", filter=Q(customer_satisfied__isnull=False)),
        satisfied=Count("id", filter=Q(customer_satisfied=True)),
        resolved=Count("id", filter=Q(resolved_at__isnull=False)),
    )
    durations = issues.filter(resolved_at__isnull=False).annotate(d=_DURATION).order_by("d").values_list("d", flat=True)
    median = _percentile(durations, totals["resolved"], 0.5)
    p90 = _percentile(durations, totals["resolved"], 0.9)

    refunds = (
        Refund.objects.filter(cause_type=RefundCause.ISSUE, cause_id__in=issues.values("issue_id"))
        .exclude(status=RefundStatus.FAILED)
        .order_by()
        .values("source", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("source", "currency")
    )
    items = OrderItem.objects.filter(issues__in=issues.values("pk")).order_by()
    top_skus = items.values("sku").annotate(issues=Count("issues", distinct=True)).order_by("-issues", "sku")[:10]
    top_categories = (
        items.filter(category__isnull=False)
        .values("category__name")
        .annotate(issues=Count("issues", distinct=True))
        .order_by("-issues", "category__name")[:10]
    )
    top_customers = (
        issues.exclude(order__customer_email="")
        .order_by()
        .values("order__customer_email")
        .annotate(issues=Count("id"))
        .filter(issues__gt=0)
        .order_by("-issues", "order__customer_email")[:10]
    )
    return {
        "created_after": created_after,
        "created_before": created_before,
        "total": totals["total"],
        "by_status": counts("status"),
        "by_priority": counts("priority"),
        "by_type": counts("issue_type"),
        "time_to_resolution": {
            "resolved_count": totals["resolved"],
            "median_hours": _hours(median),
            "p90_hours": _hours(p90),
        },
        "satisfaction": {
            "answered": totals["answered"],
            "satisfied": totals["satisfied"],
            "rate": round(totals["satisfied"] / totals["answered"], 4) if totals["answered"] else None,
        },
        "sla": {
            "breached": totals["breached"],
            "first_response_breached": totals["first_response_breached"],
            "resolution_breached": totals["resolution_breached"],
            "rate": round(totals["breached"] / totals["total"], 4) if totals["total"] else None,
        },
        "refunds_by_source": [
            {"source": r["source"], "currency": r["currency"], "count": r["count"], "amount": r["amount"] or Decimal(0)}
            for r in refunds
        ],
        "recurring": {
            "skus": [{"sku": r["sku"], "issues": r["issues"]} for r in top_skus],
            "categories": [{"category": r["category__name"], "issues": r["issues"]} for r in top_categories],
            "customers": [{"customer_email": r["order__customer_email"], "issues": r["issues"]} for r in top_customers],
        },
    }


def _hours(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 2) if value is not None else None
