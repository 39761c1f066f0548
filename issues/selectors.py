"""Reads for issues: list/detail querysets with bounded queries, the audit timeline and the metrics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import CharField, Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.history import changed_via, created_via
from config.history import who as by
from config.prebuilt import Prebuilt
from issues import metrics, sla
from issues.models import ApprovalRequest, ApprovalState, IssueNote, OrderIssue
from orders.models import Order, OrderItem, Refund, RefundCause, RefundStatus


def approvals_with_order(queryset: QuerySet[ApprovalRequest]) -> QuerySet[ApprovalRequest]:
    """Each request with the order it is about (``order_ref``: its payload's, else its issue's) and that order's
    customer (``customer_first``, ``customer_last``, ``customer_email``): a subquery per row, not a read per row.
    The managers' inbox and the index's requests waiting read them."""
    order_ref = Coalesce(KT("payload__order_id"), F("issue__order__order_id"), output_field=CharField())
    orders = Order.objects.filter(order_id=OuterRef("order_ref"))
    return queryset.annotate(order_ref=order_ref).annotate(
        customer_first=Subquery(orders.values("customer_first_name")[:1]),
        customer_last=Subquery(orders.values("customer_last_name")[:1]),
        customer_email=Subquery(orders.values("customer_email")[:1]),
    )


def affected_items() -> Prefetch:
    """An issue's affected items as its representation lists them (their ids only)."""
    return Prefetch("affected_items", queryset=OrderItem.objects.only("id", "order_item_id"))


def issue_list() -> QuerySet[OrderIssue]:
    return OrderIssue.objects.select_related("order", "assigned_to", "created_by").prefetch_related(affected_items())


def issue_detail() -> QuerySet[OrderIssue]:
    return issue_list().prefetch_related(
        Prefetch(
            "notes",
            queryset=IssueNote.objects.select_related("author")
            .annotate(via=created_via(IssueNote))
            .order_by("created_at", "id"),
        ),
        Prefetch(
            "approval_requests",
            queryset=ApprovalRequest.objects.filter(state=ApprovalState.PENDING).select_related("requested_by"),
            to_attr="pending_approvals",
        ),
    )


def issue_refunds(issue: OrderIssue) -> list[Refund]:
    """The issue's ledger refunds (those recorded for it), oldest first, with who asked for and who approved each:
    one query, whatever their number. The API's ``refunds`` list of the issue detail and history."""
    return list(
        Refund.objects.filter(cause_type=RefundCause.ISSUE, cause_id=issue.issue_id, order_id=issue.order_id)
        .select_related("requested_by", "approved_by")
        .order_by("created_at", "id")
    )


def with_refunds(issue: OrderIssue) -> OrderIssue:
    """``issue`` with its refunds read (``issue.refund_rows``), for ``IssueDetailOutput``."""
    issue.refund_rows = issue_refunds(issue)
    return issue


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


def _label(record, field: str) -> str:
    """A tracked field's value as people read it: a choice's label, a name, "nobody" or "nothing"."""
    value = _value(record, field)
    if value is None or value == "":
        return "nobody" if field == "assigned_to" else "nothing"
    choices = dict(OrderIssue._meta.get_field(field).flatchoices)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(choices.get(value, value))


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
        by = record.history_user.username if record.history_user else None
        stamp = {"changed_by": by, "changed_via": record.history_via or None, "changed_at": record.history_date}
        if previous is None or previous.status != record.status:
            timeline.append(
                {
                    "status": record.status,
                    "from_status": previous.status if previous else None,
                    **stamp,
                    "reason": record.history_change_reason or "",
                }
            )
        if previous is not None:
            for field in TRACKED:
                old, new = _value(previous, field), _value(record, field)
                if old != new:
                    changes.append({"field": field, "old_value": old, "new_value": new, **stamp})
        previous = record
    return {"timeline": timeline, "changes": changes}


@dataclass
class IssuePage:
    """What the issue page shows besides the form: the timeline and the rows it was built from, which the page's
    other parts (the refunds table, the approvals waiting) reuse instead of reading them again."""

    timeline: list[dict[str, Any]]
    refunds: list[Refund]  # oldest first
    approvals: list[ApprovalRequest]  # oldest first

    @property
    def pending_approvals(self) -> list[ApprovalRequest]:
        return [a for a in self.approvals if a.state == ApprovalState.PENDING]


def issue_timeline(issue_pk: int) -> list[dict[str, Any]]:
    """One timeline for the issue page, oldest first: status changes and other field changes, notes, refunds,
    approval requests (asked and decided) and appeasements, each with who and when. Five queries, whatever
    the issue's size."""
    return issue_page(issue_pk).timeline


def _issue_refunds(issue_id) -> QuerySet[Refund]:
    return (
        Refund.objects.filter(cause_type=RefundCause.ISSUE, cause_id=issue_id)
        .select_related("requested_by", "approved_by")
        .annotate(via=created_via(Refund))
        .order_by("created_at", "id")
    )


# The timeline's reads, their SQL built once (config.prebuilt; tests/admin/test_prebuilt.py compares them with
# these querysets): the ORM took longer to build these small queries' SQL than the database to answer them.
_HISTORY = Prebuilt(
    "timeline-history",
    lambda issue_pk: (
        OrderIssue.history.filter(id=issue_pk)
        .select_related("history_user", "assigned_to")
        .order_by("history_date", "history_id")
    ),
    (-9001,),
)
_NOTES = Prebuilt(
    "timeline-notes",
    lambda issue_pk: (
        IssueNote.objects.filter(issue_id=issue_pk).select_related("author").annotate(via=created_via(IssueNote))
    ),
    (-9001,),
)
_REFUNDS = Prebuilt("timeline-refunds", _issue_refunds, ("prebuilt-sample-issue-id",))
_APPROVALS = Prebuilt(
    "timeline-approvals",
    lambda issue_pk: (
        ApprovalRequest.objects.filter(issue_id=issue_pk)
        .select_related("requested_by", "decided_by")
        .annotate(via=created_via(ApprovalRequest), decided_via=changed_via(ApprovalRequest))
        .order_by("created_at", "id")
    ),
    (-9001,),
)


def issue_page(issue_pk: int, issue_id: str | None = None) -> IssuePage:
    """The issue's timeline (see ``issue_timeline``), with its refunds and approval requests; ``issue_id``, when the
    caller has read the issue, spares the refunds' query a subquery for it."""
    events: list[dict[str, Any]] = []
    history = _HISTORY(issue_pk)
    previous = None
    for record in history:
        who = by(record.history_user.username if record.history_user else None, record.history_via)
        if previous is None:
            text = f"opened the issue ({_label(record, 'status')})"
            events.append(timeline_event(record.history_date, who, "opened", text))
        else:
            if previous.status != record.status:
                text = f"moved it from {_label(previous, 'status')} to {_label(record, 'status')}"
                events.append(timeline_event(record.history_date, who, "status", text))
            changed = [f for f in TRACKED if f not in ("status",) and _value(previous, f) != _value(record, f)]
            for field in changed:
                name = OrderIssue._meta.get_field(field).verbose_name
                text = f"changed the {name} from {_label(previous, field)} to {_label(record, field)}"
                events.append(timeline_event(record.history_date, who, "change", text))
        previous = record
    for note in _NOTES(issue_pk):
        who = by(note.author.username if note.author else None, note.via)
        events.append(
            timeline_event(
                note.created_at, who, "note", note.body, f"{note.get_kind_display()} · {note.get_channel_display()}"
            )
        )
    if issue_id is None:
        refunds = list(_issue_refunds(Subquery(OrderIssue.objects.filter(pk=issue_pk).values("issue_id")[:1])))
    else:
        refunds = _REFUNDS(issue_id)
    for refund in refunds:
        who = by(refund.requested_by.username if refund.requested_by else None, refund.via)
        text = (
            f"Refund of {refund.amount} {refund.currency} to {refund.get_source_display().lower()}: "
            f"{refund.get_status_display().lower()} ({refund.refund_id})"
        )
        if refund.approved_by_id:
            text += f", approved by {refund.approved_by.username}"
        failed = f"Failed at the processor: {refund.failure_reason}" if refund.status == RefundStatus.FAILED else ""
        events.append(timeline_event(refund.created_at, who, "refund", text, failed))
    approvals = _APPROVALS(issue_pk)
    for approval in approvals:
        asked = f"{approval.get_kind_display()} requested ({approval.approval_id}): waiting for a manager"
        requester = by(approval.requested_by.username, approval.via)
        events.append(timeline_event(approval.created_at, requester, "approval", asked, approval.reason))
        if approval.decided_at:
            who = by(approval.decided_by.username if approval.decided_by else None, approval.decided_via)
            text = f"{approval.get_kind_display()} {approval.get_state_display().lower()} ({approval.approval_id})"
            events.append(timeline_event(approval.decided_at, who, "decision", text, approval.decision_note))
    for source in _TIMELINE_SOURCES:  # what the apps above add (appeasements), one query each
        events.extend(source(issue_pk))
    events.sort(key=lambda e: e["when"])
    return IssuePage(timeline=events, refunds=refunds, approvals=approvals)


def timeline_event(when: datetime, who: str, kind: str, text: str, detail: str = "") -> dict[str, Any]:
    """One line of an issue's timeline."""
    return {"when": when, "who": who, "kind": kind, "text": text, "detail": detail or ""}


_TIMELINE_SOURCES: list[Callable[[int], list[dict[str, Any]]]] = []


def register_timeline_source(source: Callable[[int], list[dict[str, Any]]]) -> None:
    """``source(issue_pk)``: the timeline lines an app above issues adds to an issue's page (appeasements, in its
    ``AppConfig.ready``), built with :func:`timeline_event` and ``config.history.who``."""
    if source not in _TIMELINE_SOURCES:
        _TIMELINE_SOURCES.append(source)


# --------------------------------------------------------------------------- metrics


def issue_metrics(
    *, created_after: datetime | None = None, created_before: datetime | None = None, now: datetime | None = None
) -> dict:
    """Issue counts, SLA breaches relative to ``now``, resolution-time percentiles, satisfaction, refunds and the
    most frequent SKUs, categories and customers, for issues created in ``[created_after, created_before)``.

    On PostgreSQL from a rollup kept by triggers (issues/metrics.py: about a dozen queries whatever the number of
    issues); elsewhere (the SQLite demo) computed from scratch. Both give the same answer."""
    now = now or timezone.now()
    # from the rollup when there is one, the range holds a whole day and now is not long past; else live (less
    # than a day, SQLite, a now before the SLA hours the rollup has folded)
    if metrics.enabled() and metrics.split_range(created_after, created_before) is not None and metrics.answers(now):
        return metrics.issue_metrics_fast(created_after=created_after, created_before=created_before, now=now)
    return issue_metrics_reference(created_after=created_after, created_before=created_before, now=now)


def issue_metrics_reference(
    *, created_after: datetime | None = None, created_before: datetime | None = None, now: datetime | None = None
) -> dict:
    """The metrics computed from scratch over the issues (linear in their number)."""
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
    durations = (
        issues.filter(resolved_at__isnull=False)
        .annotate(d=sla.RESOLUTION_TIME)
        .order_by("d")
        .values_list("d", flat=True)
    )
    median = metrics.percentile(durations, totals["resolved"], 0.5)
    p90 = metrics.percentile(durations, totals["resolved"], 0.9)

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
    return metrics.metrics_body(
        created_after=created_after,
        created_before=created_before,
        totals=totals,
        by={"status": counts("status"), "priority": counts("priority"), "type": counts("issue_type")},
        percentiles=(median, p90),
        refunds=[(r["source"], r["currency"], r["count"], r["amount"]) for r in refunds],
        skus=[(r["sku"], r["issues"]) for r in top_skus],
        categories=[(r["category__name"], r["issues"]) for r in top_categories],
        customers=[(r["order__customer_email"], r["issues"]) for r in top_customers],
    )
