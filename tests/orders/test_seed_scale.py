"""seed_demo's bulk path (issue 8): the rows of the real services, with history, in batches."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from appeasements.models import Appeasement, AppeasementRefund
from desk.management.seed_scale import ISSUES_PER_ORDER
from issues.models import IssueNote, OrderIssue
from orders.models import Order, Refund

pytestmark = pytest.mark.django_db


def test_scale_path_writes_issues_notes_refunds_and_history_within_the_ledger():
    # when
    out = StringIO()
    call_command("seed_demo", orders=12, batch=5, scale=True, stdout=out)
    # then
    assert Order.objects.count() == 12
    assert OrderIssue.objects.count() == 12 * ISSUES_PER_ORDER
    assert OrderIssue.history.count() == OrderIssue.objects.count()  # one history row per issue
    assert IssueNote.history.count() == IssueNote.objects.count() >= OrderIssue.objects.count()
    assert Refund.history.count() == Refund.objects.count() > 0
    assert Appeasement.objects.exists()
    assert AppeasementRefund.objects.filter(ledger_refund__isnull=False).count() == Appeasement.objects.count()
    assert not OrderIssue.objects.filter(resolution_due_at__isnull=True).exists()  # SLA deadlines scheduled
    assert not OrderIssue.objects.filter(affected_items=None).exists()
    for order in Order.objects.annotate(paid=Sum("payments__amount")):
        refunded = Refund.objects.filter(order=order).aggregate(s=Sum("amount"))["s"] or 0
        assert refunded <= order.paid
    assert "rows/s" in out.getvalue()


def test_scale_path_is_repeatable_and_skips_existing_orders():
    call_command("seed_demo", orders=6, scale=True, stdout=StringIO())
    call_command("seed_demo", orders=6, scale=True, stdout=StringIO())
    assert OrderIssue.objects.count() == 6 * ISSUES_PER_ORDER


def test_without_history_writes_the_same_rows_and_no_history():
    call_command("seed_demo", orders=4, scale=True, no_history=True, stdout=StringIO())
    assert OrderIssue.objects.count() == 4 * ISSUES_PER_ORDER
    assert OrderIssue.history.count() == 0


def test_scale_path_rows_have_the_shape_of_the_real_services_and_one_history_row_each():
    """The bulk path writes plain rows (COPY on PostgreSQL): each tracked row still gets exactly the history
    row ``bulk_create_with_history`` would write, and the rows look like what the services would have made."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model

    from appeasements.models import AppeasementState
    from issues import sla
    from issues.models import IssueStatus
    from orders.models import OrderItem, Payment, RefundCause, Shipment
    from returns.models import Return, ReturnLine

    # when
    call_command("seed_demo", orders=40, batch=15, scale=True, stdout=StringIO())
    # then: counts per model follow the plan
    orders = Order.objects.count()
    assert orders == 40
    assert Payment.objects.count() == orders
    assert Shipment.objects.exists()
    assert OrderItem.objects.count() >= orders
    assert OrderIssue.objects.count() == orders * ISSUES_PER_ORDER
    assert set(OrderIssue.objects.values_list("status", flat=True)) == set(IssueStatus.values)  # every status
    resolved = OrderIssue.objects.filter(status__in=["resolved", "closed"])
    assert IssueNote.objects.count() == OrderIssue.objects.count() + resolved.count()
    assert Refund.objects.filter(cause_type=RefundCause.ISSUE).count() == resolved.count()
    assert Appeasement.objects.count() == sum(1 for pk in Order.objects.values_list("pk", flat=True) if pk % 4 == 0)
    assert Refund.objects.filter(cause_type=RefundCause.APPEASEMENT).count() == Appeasement.objects.count()
    # a whole-order return on every second completed order (pk % 2 == 0)
    completed = Order.objects.filter(status="completed").values_list("pk", flat=True)
    assert Return.objects.count() == sum(1 for pk in completed if pk % 2 == 0)
    assert ReturnLine.objects.count() == OrderItem.objects.filter(order__returns__isnull=False).count()

    # every row it wrote has exactly one history row: "+", by the demo manager, with a reason, with its values
    manager = get_user_model().objects.get(username="emp_mgr_001")
    written = [Order, OrderItem, Payment, Shipment, OrderIssue, IssueNote, Refund, Appeasement, AppeasementRefund]
    for model in [*written, Return, ReturnLine]:
        assert model.history.count() == model.objects.count(), model
        assert model.objects.exists() or model in (Return, ReturnLine), model
        assert set(model.history.values_list("history_type", "history_user", "history_change_reason")) <= {
            ("+", manager.pk, "Demo data")
        }, model
    for issue in OrderIssue.objects.all():
        history = issue.history.get()
        assert (history.status, history.priority, history.issue_id) == (issue.status, issue.priority, issue.issue_id)
        assert history.history_date == issue.created_at
        # SLA deadlines as OrderIssue.save() schedules them
        first, resolution = sla.targets(issue.priority)
        assert issue.first_response_due_at == issue.created_at + first
        assert issue.resolution_due_at == issue.created_at + resolution
        assert issue.sla_paused == timedelta(0)
        # one affected item, from the issue's own order
        assert [item.order_id for item in issue.affected_items.all()] == [issue.order_id]
        if issue.status in ("resolved", "closed"):
            assert Refund.objects.get(cause_type=RefundCause.ISSUE, cause_id=issue.issue_id).order_id == issue.order_id
    for appeasement in Appeasement.objects.all():
        assert appeasement.state == AppeasementState.SUBMITTED
        refund = appeasement.refunds.get()
        assert refund.ledger_refund.cause_id == appeasement.appeasement_id
        assert refund.payment.order_id == appeasement.order_id
        assert refund.amount == refund.ledger_refund.amount
