"""seed_demo's bulk path (issue 8): the rows of the real services, with history, in batches."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from appeasements.models import Appeasement, AppeasementRefund
from issues.models import IssueNote, OrderIssue
from orders.management.seed_scale import ISSUES_PER_ORDER
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
