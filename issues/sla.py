"""SLA clocks for order issues (docs/admin.md).

Each issue has two clocks, with targets per priority from ``settings.SLA_TARGETS``:

* **first response**: due ``first_response_hours`` after the issue was opened; met by the first note or
  status move after that (``first_response_at``).
* **resolution**: due ``resolution_hours`` after the issue was opened, plus the time spent waiting on the
  customer. Waiting on the customer means a follow-up is scheduled: the clock stops from the moment the
  follow-up is set until its date (or until it is cleared), then runs again. Time ``escalated`` waiting for a
  manager counts like any other. The clock stops for good when the issue is resolved.

What is stored on the issue (kept up to date by :func:`begin`/:func:`finish`, called by the services):
``first_response_due_at``, ``resolution_due_at`` (opened + target + finished waits), ``sla_paused`` (the
finished waits) and ``sla_paused_since`` (the start of the current wait). Everything that depends on *now* is
computed by the database (:func:`annotate`), so lists and filters stay one query and can use the
``(status, resolution_due_at)`` index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.utils import timezone

# How long an issue took to resolve (resolved_at - created_at): the metrics, the dashboard and their reference.
RESOLUTION_TIME = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())

DONE = ("resolved", "closed")
ZERO = timedelta(0)


def targets(priority: str) -> tuple[timedelta, timedelta]:
    """(first response, resolution) targets for a priority."""
    target = settings.SLA_TARGETS.get(priority) or settings.SLA_TARGETS["medium"]
    return timedelta(hours=target["first_response_hours"]), timedelta(hours=target["resolution_hours"])


def soon() -> timedelta:
    return timedelta(minutes=settings.SLA_BREACHING_SOON_MINUTES)


# --------------------------------------------------------------------------- bookkeeping on writes


def schedule(issue) -> None:
    """Set the deadlines from the priority and the finished waits (on create, and after every change)."""
    first, resolution = targets(issue.priority)
    issue.first_response_due_at = issue.created_at + first
    issue.resolution_due_at = issue.created_at + resolution + (issue.sla_paused or ZERO)


def waiting_on_customer(issue, now: datetime) -> bool:
    return bool(
        issue.status not in DONE
        and issue.follow_up_required
        and issue.follow_up_date is not None
        and issue.follow_up_date > now
    )


@dataclass(frozen=True)
class Snapshot:
    first_response_at: datetime | None


def begin(issue, now: datetime) -> Snapshot:
    """Before a change: fold the current wait (up to now, or to the follow-up date if that passed)."""
    snapshot = Snapshot(first_response_at=issue.first_response_at)
    if issue.sla_paused_since is not None:
        end = min(now, issue.follow_up_date) if issue.follow_up_date else now
        issue.sla_paused = (issue.sla_paused or ZERO) + max(end - issue.sla_paused_since, ZERO)
        issue.sla_paused_since = None
    return snapshot


def finish(issue, now: datetime, *, responded: bool, snapshot: Snapshot) -> bool:
    """After a change: record the first response, start a wait if a follow-up is scheduled, reschedule.

    Returns True when the issue must be saved for the SLA alone (the first response was just recorded).
    Otherwise the folded wait is equivalent to what is stored and needs no write of its own.
    """
    if responded and issue.first_response_at is None:
        issue.first_response_at = now
    if waiting_on_customer(issue, now):
        issue.sla_paused_since = now
    schedule(issue)
    return snapshot.first_response_at is None and issue.first_response_at is not None


# --------------------------------------------------------------------------- reads (database side)


def now_value(now: datetime | None) -> Value:
    return Value(now or timezone.now(), output_field=DateTimeField())


def annotate(queryset: QuerySet, now: datetime | None = None) -> QuerySet:
    """Add ``sla_due`` (the resolution deadline counting the current wait), ``sla_left`` (negative: overdue;
    for resolved issues the margin they were resolved with), ``sla_waiting`` and ``sla_breached``."""
    n = now_value(now)
    waiting = Q(sla_paused_since__isnull=False, follow_up_date__gt=F("sla_paused_since"))
    current_wait = Case(
        When(
            waiting,
            then=ExpressionWrapper(Least(n, F("follow_up_date")) - F("sla_paused_since"), output_field=DurationField()),
        ),
        default=Value(ZERO, output_field=DurationField()),
        output_field=DurationField(),
    )
    due = ExpressionWrapper(F("resolution_due_at") + current_wait, output_field=DateTimeField())
    stop = Coalesce("resolved_at", "closed_at", n, output_field=DateTimeField())
    return queryset.annotate(
        sla_due=due,
        sla_stop=stop,
    ).annotate(
        sla_left=ExpressionWrapper(F("sla_due") - F("sla_stop"), output_field=DurationField()),
        sla_waiting=ExpressionWrapper(waiting & Q(follow_up_date__gt=n) & ~Q(status__in=DONE), BooleanField()),
        sla_breached=ExpressionWrapper(breached_q(n), output_field=BooleanField()),
    )


def first_response_breached_q(n) -> Q:
    return Q(first_response_at__isnull=True, first_response_due_at__lt=n) | Q(
        first_response_at__gt=F("first_response_due_at")
    )


def resolution_breached_q(n) -> Q:
    # resolution_due_at < stop is implied (the current wait only moves the deadline later): an indexable prefilter.
    return Q(resolution_due_at__lt=Coalesce("resolved_at", "closed_at", n), sla_due__lt=F("sla_stop"))


def breached_q(n) -> Q:
    return first_response_breached_q(n) | resolution_breached_q(n)


def filter_breached(queryset: QuerySet, now: datetime | None = None) -> QuerySet:
    """Issues whose first response or resolution came (or is) late. Needs :func:`annotate`."""
    return queryset.filter(breached_q(now_value(now)))


def breaching_soon_q(now: datetime | None = None) -> Q:
    """Open issues, clock running, not yet late, whose resolution or first-response deadline falls within
    the next ``SLA_BREACHING_SOON_MINUTES``. Needs :func:`annotate`."""
    moment = now or timezone.now()
    n, horizon = now_value(moment), Value(moment + soon(), output_field=DateTimeField())
    resolution_soon = Q(resolution_due_at__lt=horizon, sla_due__gte=n, sla_due__lt=horizon, sla_waiting=False)
    first_soon = Q(first_response_at__isnull=True, first_response_due_at__gte=n, first_response_due_at__lt=horizon)
    return ~Q(status__in=DONE) & (resolution_soon | first_soon)


def filter_breaching_soon(queryset: QuerySet, now: datetime | None = None) -> QuerySet:
    return queryset.filter(breaching_soon_q(now))


def describe(left: timedelta | None, *, done: bool, waiting: bool) -> str:
    """'3h 10m left', 'overdue 2h', 'waiting on customer (5h left)', 'met (2h spare)', 'missed by 1d 2h'."""
    if left is None:
        return "—"
    text = _span(abs(left))
    if done:
        return f"met ({text} spare)" if left >= ZERO else f"missed by {text}"
    if waiting:
        return f"waiting on customer ({text} left)" if left >= ZERO else f"waiting on customer (overdue {text})"
    return f"{text} left" if left >= ZERO else f"overdue {text}"


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"
