"""The business gauges an on-call engineer needs, computed at each scrape of ``/metrics`` (config/metrics.py).

Every query reads an index that holds only the rows it counts (or a day of rows), so a scrape costs the same at
1k and 1M orders: unsettled refunds (``refund_unsettled_idx``), refunds settled in the last day (``created_at``),
undispatched webhook events (``outbox_undispatched_idx``), deliveries by status (``delivery_due_idx``), pending
approvals (``approval_one_pending_per_target_kind``, ``appeasement_state_created_idx``).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from appeasements.models import Appeasement, AppeasementState
from issues.models import ApprovalRequest, ApprovalState
from orders.models import Refund, RefundStatus
from webhooks.models import Delivery, DeliveryStatus, OutboxEvent

logger = logging.getLogger(__name__)

UNSETTLED = (RefundStatus.PENDING, RefundStatus.PROCESSING)
SETTLED = (RefundStatus.COMPLETED, RefundStatus.FAILED)


def _counts(queryset, field: str) -> dict[str, int]:
    # COUNT(*), not COUNT(id): a count that needs no column of the row can be answered from an index alone
    return dict(queryset.order_by().values_list(field).annotate(n=Count("*")))


class BusinessCollector:
    """Collects the gauges; a database error gives ``backoffice_business_metrics_up 0`` instead of a failed scrape."""

    def collect(self):
        up = GaugeMetricFamily("backoffice_business_metrics_up", "1 when the business gauges could be read")
        try:
            families = list(self._families())
        except Exception:  # noqa: BLE001 - the request metrics are still worth scraping
            logger.exception("metrics: the business gauges could not be read")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self):
        now = timezone.now()
        refunds = GaugeMetricFamily(
            "backoffice_refunds_unsettled", "Refunds not settled yet, by status", labels=["status"]
        )
        unsettled = _counts(Refund.objects.filter(status__in=UNSETTLED), "status")
        for status in UNSETTLED:
            refunds.add_metric([status], unsettled.get(status, 0))
        yield refunds

        settled = GaugeMetricFamily(
            "backoffice_refunds_settled_last_day",
            "Refunds created in the last 24 hours and settled, by status",
            labels=["status"],
        )
        recent = _counts(Refund.objects.filter(created_at__gte=now - timedelta(days=1), status__in=SETTLED), "status")
        for status in SETTLED:
            settled.add_metric([status], recent.get(status, 0))
        yield settled

        oldest = Refund.objects.filter(status__in=UNSETTLED).aggregate(at=Min("updated_at"))["at"]
        yield GaugeMetricFamily(
            "backoffice_refund_oldest_unsettled_age_seconds",
            "Seconds since the oldest pending or processing refund last changed (0: none)",
            value=(now - oldest).total_seconds() if oldest else 0,
        )

        undispatched = OutboxEvent.objects.filter(dispatched_at__isnull=True)
        first = undispatched.order_by("id").values_list("created_at", flat=True).first()
        yield GaugeMetricFamily(
            "backoffice_outbox_undispatched_events", "Webhook events not fanned out yet", value=undispatched.count()
        )
        yield GaugeMetricFamily(
            "backoffice_outbox_lag_seconds",
            "Age of the oldest webhook event not fanned out yet (0: none)",
            value=(now - first).total_seconds() if first else 0,
        )

        deliveries = GaugeMetricFamily(
            "backoffice_webhook_deliveries", "Webhook deliveries waiting or finally failed", labels=["status"]
        )
        by_status = _counts(
            Delivery.objects.filter(status__in=(DeliveryStatus.PENDING, DeliveryStatus.FAILED)), "status"
        )
        for status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED):
            deliveries.add_metric([status], by_status.get(status, 0))
        yield deliveries

        approvals = GaugeMetricFamily(
            "backoffice_pending_approvals", "Requests waiting for a manager's decision", labels=["kind"]
        )
        approvals.add_metric(["issue"], ApprovalRequest.objects.filter(state=ApprovalState.PENDING).count())
        approvals.add_metric(
            ["appeasement"], Appeasement.objects.filter(state=AppeasementState.PENDING_APPROVAL).count()
        )
        yield approvals
