"""The managers' dashboard and the admin index's daily panel (docs/admin.md).

Everything here is an aggregate query: the number of queries depends on the date range's buckets, never on
the number of issues, refunds or appeasements. Charts are server-rendered SVG (no JavaScript, no CDN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, Sum, Window
from django.db.models.functions import Floor, RowNumber, TruncDate, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe

from config.people import is_manager
from desk.sidebar import badge_text, bounded_count
from issues import sla
from issues.models import ApprovalRequest, ApprovalState, IssuePriority, IssueStatus, IssueType, OrderIssue
from issues.selectors import approvals_with_order, follow_up_due_q, issue_metrics
from orders.models import Refund, RefundCause, RefundSource, RefundStatus

MAX_DAYS = 366  # the longest range, in days (both ends included)
DEFAULT_DAYS = 30  # the range without dates: the 30 days ending today
EARLIEST = date(2000, 1, 1)  # the first day the form accepts; the last is a year after today (latest_day)


# --------------------------------------------------------------------------- the index's daily panel


WAITING_ON_INDEX = 5  # the requests a manager's index lists, longest waiting first; the inbox has the rest


def daily_panel(user, now: datetime | None = None) -> dict[str, Any]:
    """Counts behind the index's one-click links, and for a manager the requests waiting longest, each with
    its Approve and Reject (one click to the decision form): two queries, three for a manager. Each count stops at
    ``BADGE_CAP`` rows and reads "99+" beyond (a desk with 750,000 open issues counted them all on every visit of
    the index: 300 ms)."""
    now = now or timezone.now()
    today_end = timezone.make_aware(datetime.combine(timezone.localdate(now) + timedelta(days=1), time.min))
    open_issues = OrderIssue.objects.exclude(status__in=sla.DONE)
    mine = open_issues.filter(assigned_to_id=user.pk)
    queries = {
        "my_open": mine,
        "my_follow_ups": mine.filter(follow_up_due_q(today_end)),
        "breached": sla.annotate(open_issues, now).filter(sla.breached_q(sla.now_value(now))),
        "breaching_soon": sla.annotate(OrderIssue.objects.all(), now).filter(sla.breaching_soon_q(now)),
    }
    row = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(**{name: bounded_count(queryset) for name, queryset in queries.items()})
        .values(*queries)
        .first()
    ) or dict.fromkeys(queries, 0)
    counts = {name: badge_text(n) for name, n in row.items()}
    manager = is_manager(user) or user.is_superuser
    pending = ApprovalRequest.objects.filter(state=ApprovalState.PENDING).count() if manager else None
    waiting = []
    if manager and pending:
        rows = ApprovalRequest.objects.filter(state=ApprovalState.PENDING).select_related("requested_by")
        waiting = list(approvals_with_order(rows).order_by("created_at", "id")[:WAITING_ON_INDEX])
        for approval in waiting:  # four eyes: nobody decides what they asked for or made
            approval.decidable = user.pk not in approval.involved_pks()
            approval.age = sla.describe(now - approval.created_at, done=False, waiting=False).replace(" left", "")
    return {**counts, "pending_approvals": pending, "waiting": waiting, "is_manager": manager}


# --------------------------------------------------------------------------- the dashboard


@dataclass(frozen=True)
class DateRange:
    start: date
    end: date  # inclusive

    @property
    def after(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def before(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def weekly(self) -> bool:
        return (self.end - self.start).days > 45

    @classmethod
    def default(cls, *, today: date | None = None) -> DateRange:
        """The range shown without dates (or instead of dates the form refused): the 30 days ending today."""
        today = today or timezone.localdate()
        return cls(today - timedelta(days=DEFAULT_DAYS - 1), today)

    @classmethod
    def parse(cls, start: str | None, end: str | None, *, today: date | None = None) -> DateRange:
        """The range of the dashboard's form: ``start`` and ``end`` as ``YYYY-MM-DD``. Without ``end`` it ends
        today; without ``start`` it is the 30 days ending with ``end`` (from 2000-01-01 at the earliest).

        Raises ``DateRangeError`` (saying what is allowed) for a value that is not a date, a date before
        2000-01-01 or more than a year after today, an end before the start, or more than 366 days: such dates
        used to be swapped, cut or replaced without a word, and the extreme ones (``9999-12-31``) were a 500."""
        today = today or timezone.localdate()
        latest = latest_day(today)
        problems: list[str] = []

        def day(label: str, text: str | None) -> date | None:
            if not text:
                return None
            try:
                value = date.fromisoformat(text)
            except ValueError:
                problems.append(f"{label} {text[:30]!r} is not a date (YYYY-MM-DD).")
                return None
            if not EARLIEST <= value <= latest:
                problems.append(f"{label} {value.isoformat()} is outside {EARLIEST} – {latest}.")
                return None
            return value

        start_day, end_day = day("Start", start), day("End", end)
        if not problems:
            end_day = end_day or today
            start_day = start_day or max(end_day - timedelta(days=DEFAULT_DAYS - 1), EARLIEST)
            if end_day < start_day:
                problems.append(f"The end {end_day.isoformat()} is before the start {start_day.isoformat()}.")
            elif (end_day - start_day).days + 1 > MAX_DAYS:
                problems.append(f"{start_day.isoformat()} – {end_day.isoformat()} is longer than {MAX_DAYS} days.")
        if problems:
            raise DateRangeError(problems, allowed=allowed_dates(today))
        return cls(start_day, end_day)

    def buckets(self) -> list[date]:
        if self.weekly:
            first = self.start - timedelta(days=self.start.weekday())
            return [first + timedelta(weeks=n) for n in range((self.end - first).days // 7 + 1)]
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def latest_day(today: date) -> date:
    """The last day the dashboard's form accepts: a year after today (28 February for 29 February)."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:
        return today.replace(year=today.year + 1, day=28)


def allowed_dates(today: date) -> str:
    return (
        f"Choose dates from {EARLIEST.isoformat()} to {latest_day(today).isoformat()}, the start on or before the "
        f"end, at most {MAX_DAYS} days in all."
    )


class DateRangeError(ValueError):
    """Dates the dashboard does not show: ``problems`` say what was wrong, ``allowed`` what is allowed."""

    def __init__(self, problems: list[str], *, allowed: str):
        super().__init__(" ".join([*problems, allowed]))
        self.problems = problems
        self.allowed = allowed


def _resolution_over_time(issues, rng: DateRange) -> list[dict[str, Any]]:
    """Median and 90th percentile of time to resolution per bucket (by resolution date), in hours.

    One query on any database: window functions number each bucket's durations in order, and only the (at
    most four) rows around each percentile's position come back; the interpolation is PostgreSQL's
    ``percentile_cont``.
    """
    trunc = TruncWeek if rng.weekly else TruncDate
    bucket = trunc("resolved_at")
    ranked = (
        issues.filter(resolved_at__gte=rng.after, resolved_at__lt=rng.before)
        .order_by()
        .annotate(
            bucket=bucket,
            d=sla.RESOLUTION_TIME,
            rn=Window(RowNumber(), partition_by=[bucket], order_by=[sla.RESOLUTION_TIME.asc(), F("id").asc()]),
            n=Window(Count("id"), partition_by=[bucket]),
        )
    )
    wanted = Q()
    for fraction in (0.5, 0.9):
        low = Floor((F("n") - 1) * fraction) + 1
        wanted |= Q(rn=low) | Q(rn=low + 1)
    rows = ranked.filter(wanted).values_list("bucket", "rn", "n", "d")
    ordered: dict[date, dict[int, timedelta]] = {}
    sizes: dict[date, int] = {}
    for day, rn, n, duration in rows:
        ordered.setdefault(_day(day), {})[rn - 1] = duration
        sizes[_day(day)] = n

    def percentile(day: date, fraction: float) -> float | None:
        position = fraction * (sizes[day] - 1)
        low = int(position)
        values = ordered[day]
        value = values[low]
        if position > low and low + 1 in values:
            value = value + (values[low + 1] - value) * (position - low)
        return _hours(value)

    return [
        {
            "bucket": b,
            "resolved": sizes.get(b, 0),
            "p50": percentile(b, 0.5) if b in sizes else None,
            "p90": percentile(b, 0.9) if b in sizes else None,
        }
        for b in rng.buckets()
    ]


def _day(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def _hours(value: timedelta | None) -> float | None:
    return round(value.total_seconds() / 3600, 2) if value is not None else None


def _per_day(queryset, field: str, rng: DateRange) -> dict[date, int]:
    trunc = TruncWeek if rng.weekly else TruncDate
    rows = (
        queryset.filter(**{f"{field}__gte": rng.after, f"{field}__lt": rng.before})
        .order_by()
        .annotate(bucket=trunc(field))
        .values("bucket")
        .annotate(n=Count("id"))
    )
    return {_day(r["bucket"]): r["n"] for r in rows}


def dashboard_data(rng: DateRange, now: datetime | None = None) -> dict[str, Any]:
    from appeasements.models import Appeasement, AppeasementRefund  # read-only

    now = now or timezone.now()
    issues = OrderIssue.objects.all()

    # backlog now: everything not closed, by status and priority (one query)
    backlog_rows = (
        issues.exclude(status=IssueStatus.CLOSED).order_by().values("status", "priority").annotate(n=Count("id"))
    )
    statuses = [s for s in IssueStatus.values if s != IssueStatus.CLOSED]
    priorities = list(IssuePriority.values)
    backlog = {s: dict.fromkeys(priorities, 0) for s in statuses}
    for row in backlog_rows:
        backlog[row["status"]][row["priority"]] = row["n"]

    opened = _per_day(issues, "created_at", rng)
    resolved = _per_day(issues, "resolved_at", rng)
    flow = [{"bucket": b, "opened": opened.get(b, 0), "resolved": resolved.get(b, 0)} for b in rng.buckets()]

    metrics = issue_metrics(created_after=rng.after, created_before=rng.before, now=now)

    refunds = (
        Refund.objects.filter(created_at__gte=rng.after, created_at__lt=rng.before)
        .exclude(status=RefundStatus.FAILED)
        .order_by()
    )
    refunds_by_source = list(
        refunds.values("source", "currency").annotate(n=Count("id"), amount=Sum("amount")).order_by("-amount")
    )
    refunds_by_cause = list(
        refunds.values("cause_type", "currency").annotate(n=Count("id"), amount=Sum("amount")).order_by("-amount")
    )
    appeasements = Appeasement.objects.filter(created_at__gte=rng.after, created_at__lt=rng.before).order_by()
    appeasements_by_reason = list(
        appeasements.values("reason__code", "reason__description")
        .annotate(n=Count("id", distinct=True), amount=Sum("refunds__amount"))
        .order_by("-n", "reason__code")
    )
    appeasements_by_source = list(
        AppeasementRefund.objects.filter(appeasement__in=appeasements.values("pk"))
        .order_by()
        .values("refund_type__ledger_source")
        .annotate(n=Count("id"), amount=Sum("amount"))
        .order_by("-amount")
    )
    return {
        "range": rng,
        "backlog": backlog,
        "backlog_total": sum(sum(row.values()) for row in backlog.values()),
        "statuses": statuses,
        "priorities": priorities,
        "flow": flow,
        "resolution": _resolution_over_time(issues, rng),
        "metrics": metrics,
        "refunds_by_source": refunds_by_source,
        "refunds_by_cause": refunds_by_cause,
        "appeasements_by_reason": appeasements_by_reason,
        "appeasements_by_source": appeasements_by_source,
    }


# --------------------------------------------------------------------------- SVG charts

PALETTE = ["#417690", "#79aec8", "#e8a33d", "#ba2121", "#5b8c5a", "#8e6bb0"]


def bar_chart(rows: list[tuple], *, width: int = 420, unit: str = "") -> SafeString:
    """Horizontal bars, one per (label, value) or (label, value, link): a bar with a link opens the list it
    counts."""
    if not rows:
        return mark_safe('<p class="empty">No data in this range.</p>')
    bar, gap, label_w = 18, 6, 190
    height = len(rows) * (bar + gap) + gap
    top = max(float(row[1] or 0) for row in rows) or 1
    parts = [f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for i, (label, value, *link) in enumerate(rows):
        y = gap + i * (bar + gap)
        w = (width - label_w - 70) * float(value or 0) / top
        row = (
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(_short(str(label)))}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar}" fill="{PALETTE[0]}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 13}">{escape(_fmt(value))}{escape(unit)}</text>'
        )
        parts.append(_linked(row, link[0] if link else None, f"{label}: {_fmt(value)}{unit}"))
    parts.append("</svg>")
    return mark_safe("".join(parts))


def stacked_bars(
    categories: list[str],
    series: list[str],
    values: dict[str, dict[str, int]],
    *,
    width: int = 420,
    labels: dict[str, str] | None = None,
    link=None,
) -> SafeString:
    """Vertical stacked bars: one bar per category, one colour per series, with a legend. ``labels`` names the
    values as people read them; ``link(category, series)`` is the list a segment counts."""
    labels = labels or {}
    height, bottom, left = 200, 36, 30
    top = max((sum(values[c].values()) for c in categories), default=0) or 1
    slot = (width - left) / max(len(categories), 1)
    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height + 20}" viewBox="0 0 {width} {height + 20}">'
    ]
    names = [labels.get(cat, cat.replace("_", " ")) for cat in categories]
    stagger = any(len(name) * 6.5 > slot for name in names)  # labels wider than their bar: every other one lower
    for i, cat in enumerate(categories):
        x, y = left + i * slot + slot * 0.15, height - bottom
        for j, name in enumerate(series):
            h = (height - bottom - 22) * values[cat][name] / top
            y -= h
            if h:
                segment = (
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{PALETTE[j]}">'
                    f"<title>{escape(labels.get(cat, cat))} / {escape(labels.get(name, name))}: "
                    f"{values[cat][name]}</title></rect>"
                )
                parts.append(_linked(segment, link(cat, name) if link else None))
        total = sum(values[cat].values())
        parts.append(f'<text x="{x + slot * 0.35:.1f}" y="{y - 3:.1f}" text-anchor="middle">{total}</text>')
        parts.append(
            f'<text x="{x + slot * 0.35:.1f}" y="{height - bottom + 14 + (12 if stagger and i % 2 else 0)}" '
            f'text-anchor="middle">{escape(names[i])}</text>'
        )
    for j, name in enumerate(series):
        parts.append(
            f'<rect x="{left + j * 80}" y="{height + 2}" width="10" height="10" fill="{PALETTE[j]}"/>'
            f'<text x="{left + j * 80 + 14}" y="{height + 11}">{escape(labels.get(name, name))}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def line_chart(
    points: list[dict[str, Any]], series: list[str], *, width: int = 860, height: int = 200, unit: str = ""
) -> SafeString:
    """Lines over the date buckets; ``points`` are dicts with ``bucket`` and one value per series (None: gap)."""
    left, bottom, right = 56, 30, 30
    values = [p[s] for p in points for s in series if p[s] is not None]
    if not values:
        return mark_safe('<p class="empty">No data in this range.</p>')
    top = _nice(max(values))
    step = (width - left - right) / max(len(points) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, height - bottom - (height - bottom - 10) * float(v) / top

    parts = [
        f'<svg class="chart" role="img" width="{width}" height="{height + 16}" viewBox="0 0 {width} {height + 16}">'
    ]
    for frac in (0, 0.5, 1):
        tick = top * frac
        if unit != "h" and not float(tick).is_integer():
            continue  # counts: no half issue on the axis
        y = height - bottom - (height - bottom - 10) * frac
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{escape(_tick(tick, unit))}</text>'
        )
    every = max(1, len(points) // 8)
    for i, p in enumerate(points):
        if i % every == 0:
            x, _ = xy(i, 0)
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">{p["bucket"]:%m-%d}</text>'
            )
    for j, name in enumerate(series):
        coords = [xy(i, p[name]) for i, p in enumerate(points) if p[name] is not None]
        if coords:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[j]}" stroke-width="2"/>')
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{PALETTE[j]}"/>' for x, y in coords)
        parts.append(
            f'<rect x="{left + j * 110}" y="{height + 4}" width="10" height="10" fill="{PALETTE[j]}"/>'
            f'<text x="{left + j * 110 + 14}" y="{height + 13}">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def _nice(top: float) -> float:
    """The axis' top: the data's maximum rounded up to 1, 2, 2.5 or 5 times a power of ten."""
    if not top or top <= 0:
        return 1
    power = 10 ** math.floor(math.log10(top))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if top <= m * power)


def _tick(value: float, unit: str) -> str:
    """An axis label in sensible units (durations: :func:`hours_text`)."""
    if unit != "h":
        return f"{_fmt(value)}{unit}"
    return "0" if value == 0 else hours_text(value)


def hours_text(value: float | None) -> str:
    """A duration given in hours, as a person reads it: minutes below one hour, hours up to two days, then days;
    "—" for none."""
    if value is None:
        return "—"
    if value < 1:
        return f"{round(value * 60)} min"
    if value < 48:
        return f"{value:.1f}".rstrip("0").rstrip(".") + " h"
    return f"{value / 24:.1f}".rstrip("0").rstrip(".") + " d"


def _linked(svg: str, href: str | None, title: str = "") -> str:
    if not href:
        return svg
    return f'<a href="{escape(href)}">{f"<title>{escape(title)}</title>" if title else ""}{svg}</a>'


def _short(label: str, size: int = 30) -> str:
    return label if len(label) <= size else label[: size - 1] + "…"


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def charts(data: dict[str, Any]) -> dict[str, SafeString]:
    """The dashboard's charts, labelled as people read them; each bar links to the list it counts."""
    metrics = data["metrics"]
    issues = reverse("admin:issues_orderissue_changelist")
    refunds = reverse("admin:orders_refund_changelist")
    rng = data["range"]
    opened = urlencode(
        {"created_at__gte": rng.start.isoformat(), "created_at__lt": (rng.end + timedelta(1)).isoformat()}
    )
    labels = {**dict(IssueStatus.choices), **dict(IssuePriority.choices)}
    types = dict(IssueType.choices)
    sources, causes = dict(RefundSource.choices), dict(RefundCause.choices)
    return {
        "backlog": stacked_bars(
            data["statuses"],
            data["priorities"],
            data["backlog"],
            labels=labels,
            link=lambda status, priority: f"{issues}?status__exact={status}&priority__exact={priority}",
        ),
        "flow": line_chart(data["flow"], ["opened", "resolved"]),
        "resolution": line_chart(data["resolution"], ["p50", "p90"], unit="h"),
        "types": bar_chart(
            [
                (types.get(k, k), v, f"{issues}?issue_type__exact={k}&{opened}")
                for k, v in sorted(metrics["by_type"].items(), key=lambda kv: -kv[1])
            ]
        ),
        "skus": bar_chart([(r["sku"], r["issues"]) for r in metrics["recurring"]["skus"]]),
        "customers": bar_chart(
            [
                (r["customer_email"], r["issues"], f"{issues}?{urlencode({'q': r['customer_email']})}")
                for r in metrics["recurring"]["customers"]
            ]
        ),
        "refunds": bar_chart(
            [
                (
                    f"{sources.get(r['source'], r['source'])} ({r['currency']})",
                    r["amount"],
                    f"{refunds}?source__exact={r['source']}",
                )
                for r in data["refunds_by_source"]
            ]
        ),  # fmt: skip
        "refund_causes": bar_chart(
            [
                (
                    f"{causes.get(r['cause_type'], r['cause_type'])} ({r['currency']})",
                    r["amount"],
                    f"{refunds}?cause_type__exact={r['cause_type']}",
                )
                for r in data["refunds_by_cause"]
            ]
        ),  # fmt: skip
        "appeasement_reasons": bar_chart(
            [(r["reason__description"] or r["reason__code"], r["n"]) for r in data["appeasements_by_reason"]]
        ),
        "appeasement_sources": bar_chart(
            [
                (sources.get(r["refund_type__ledger_source"], r["refund_type__ledger_source"]), r["amount"])
                for r in data["appeasements_by_source"]
            ]
        ),
    }


def backlog_table(data: dict[str, Any]) -> dict[str, Any]:
    """The backlog as a table of labels, each count linking to the issues it counts."""
    issues = reverse("admin:issues_orderissue_changelist")
    return {
        "priorities": [IssuePriority(p).label for p in data["priorities"]],
        "rows": [
            (
                IssueStatus(status).label,
                [(n, f"{issues}?status__exact={status}&priority__exact={p}") for p, n in row.items()],
            )
            for status, row in data["backlog"].items()
        ],
    }


def rate(value: float | None) -> str:
    return "—" if value is None else format_html("{}%", f"{value * 100:.1f}")
