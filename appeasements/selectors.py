"""Reads for appeasements: bounded querysets, the refund states derived from the ledger, initiation data."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet, Sum

from appeasements.models import (
    Appeasement,
    AppeasementComment,
    AppeasementReason,
    AppeasementRefund,
    AppeasementRefundState,
    RefundType,
)
from config.history import created_via
from config.history import who as by
from config.prebuilt import Prebuilt
from orders import ledger
from orders.models import ZERO, Order, OrderStatus, Payment, PaymentStatus, RefundStatus

# Orders that cannot be appeased: nothing was delivered or everything was called off.
NOT_APPEASABLE_ORDER_STATUSES = (OrderStatus.PENDING, OrderStatus.CANCELED)

_LEDGER_TO_STATE = {
    RefundStatus.COMPLETED: AppeasementRefundState.COMPLETE,
    RefundStatus.FAILED: AppeasementRefundState.FAILED,
}


def refund_state(refund: AppeasementRefund) -> str:
    """The refund's state as the ledger knows it (the stored ``state`` catches up in a background task)."""
    ledger = refund.ledger_refund
    if ledger is None:
        return refund.state
    return _LEDGER_TO_STATE.get(ledger.status, AppeasementRefundState.INCOMPLETE)


def appeasement_queryset() -> QuerySet[Appeasement]:
    """Everything the API shows, in a fixed number of queries whatever the number of rows."""
    return Appeasement.objects.select_related("order", "agent", "reason", "issue").prefetch_related(
        Prefetch(
            "refunds",
            queryset=AppeasementRefund.objects.select_related("refund_type", "ledger_refund").order_by(
                "created_at", "id"
            ),
        ),
        Prefetch("comments", queryset=AppeasementComment.objects.select_related("agent").order_by("created_at", "id")),
    )


def appeasement_list(*, order_id: str = "", profile_id: str = "", state: str = "") -> QuerySet[Appeasement]:
    qs = appeasement_queryset()
    if order_id:
        qs = qs.filter(order__order_id=order_id)
    if profile_id:
        qs = qs.filter(profile_id=profile_id)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def appeasement_total(appeasement: Appeasement) -> Decimal:
    return sum((r.amount for r in appeasement.refunds.all()), ZERO)


def is_appeasable(order: Order) -> bool:
    return order.status not in NOT_APPEASABLE_ORDER_STATUSES


@dataclass(frozen=True)
class Initiation:
    order: Order
    appeasable: bool
    paid: Decimal
    refunded: Decimal
    refundable: Decimal
    policy_limit: Decimal
    refund_types: list[RefundType]
    reasons: list[AppeasementReason]
    payments: list[Payment]


def appeasement_initiation(order: Order) -> Initiation:
    money = ledger.order_money(order)
    refundable = money.refundable
    share = Decimal(str(settings.APPEASEMENT_POLICY_SHARE))
    return Initiation(
        order=order,
        appeasable=is_appeasable(order) and refundable > ZERO,
        paid=money.paid,
        refunded=money.refunded,
        refundable=refundable,
        policy_limit=(order.order_total * share).quantize(Decimal("0.01")),
        refund_types=list(RefundType.objects.filter(active=True)),
        reasons=list(AppeasementReason.objects.filter(active=True)),
        payments=list(order.payments.filter(status=PaymentStatus.CAPTURED).order_by("id")),
    )


# its SQL built once (config.prebuilt; tests/admin/test_prebuilt.py compares it with this queryset)
_ISSUE_APPEASEMENTS = Prebuilt(
    "timeline-appeasements",
    lambda issue_pk: (
        Appeasement.objects.filter(issue_id=issue_pk)
        .select_related("agent", "reason")
        .annotate(total=Sum("refunds__amount"), via=created_via(Appeasement))
        .order_by("created_at")
    ),
    (-9001,),
)


def issue_timeline_lines(issue_pk: int) -> list[dict[str, Any]]:
    """The appeasements of an issue, as lines of its timeline (``issues.selectors.register_timeline_source``, in
    ``AppeasementsConfig.ready``): one query."""
    from issues.selectors import timeline_event

    lines = []
    for appeasement in _ISSUE_APPEASEMENTS(issue_pk):
        text = (
            f"Appeasement of {appeasement.total or 0} for {appeasement.reason.description or appeasement.reason.code}: "
            f"{appeasement.get_state_display()} ({appeasement.appeasement_id})"
        )
        who = by(appeasement.agent.username, appeasement.via)
        lines.append(timeline_event(appeasement.created_at, who, "appeasement", text, appeasement.notes))
    return lines
