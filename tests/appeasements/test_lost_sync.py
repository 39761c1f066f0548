"""A lost ``sync_refund_states`` job (RQ's queue flushed, an enqueue that failed after commit) does not leave an
appeasement refund's state behind its ledger refund for ever: the ``sync_appeasement_refunds`` sweep catches it up
(docs/adr/0014)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from appeasements import services as appeasements
from appeasements.models import AppeasementRefund, AppeasementRefundState
from orders.models import OrderStatus, Refund, RefundStatus
from tests.factories import order_with_items, submitted_appeasement

pytestmark = pytest.mark.django_db


def submitted(agent, *, settled_minutes_ago: int) -> AppeasementRefund:
    """A submitted appeasement whose ledger refund completed ``settled_minutes_ago``, and whose sync job was lost."""
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status=OrderStatus.COMPLETED)
    row = AppeasementRefund.objects.get(appeasement=submitted_appeasement(order, agent))
    # the processor completed the ledger refund; the job that copies its outcome never ran (test data)
    Refund.objects.filter(pk=row.ledger_refund_id).update(
        status=RefundStatus.COMPLETED, updated_at=timezone.now() - timedelta(minutes=settled_minutes_ago)
    )
    assert AppeasementRefund.objects.get(pk=row.pk).state == AppeasementRefundState.INCOMPLETE
    return row


def test_the_sweep_brings_a_state_left_behind_up_to_date_with_its_history(agent):
    behind = submitted(agent, settled_minutes_ago=30)
    fresh = submitted(agent, settled_minutes_ago=1)  # its job may still be on its way

    assert appeasements.appeasement_refunds_sync_behind(older_than=timedelta(minutes=15)) == 1

    behind.refresh_from_db()
    fresh.refresh_from_db()
    assert behind.state == AppeasementRefundState.COMPLETE
    assert behind.history.latest().history_change_reason == "Ledger refund complete"
    assert behind.appeasement.history.latest().history_change_reason == f"Refund {behind.refund_id} complete"
    assert fresh.state == AppeasementRefundState.INCOMPLETE
    # nothing left behind: a second sweep finds nothing
    assert appeasements.appeasement_refunds_sync_behind(older_than=timedelta(minutes=15)) == 0


def test_the_command_uses_the_stuck_refund_threshold(agent, settings):
    settings.REFUNDS_STUCK_AFTER_MINUTES = 45
    row = submitted(agent, settled_minutes_ago=30)
    call_command("sync_appeasement_refunds", verbosity=0)
    row.refresh_from_db()
    assert row.state == AppeasementRefundState.INCOMPLETE  # settled 30 minutes ago, under the 45 set
    call_command("sync_appeasement_refunds", "--older-than-minutes", "20", verbosity=0)
    row.refresh_from_db()
    assert row.state == AppeasementRefundState.COMPLETE
