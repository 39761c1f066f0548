"""Audit completeness for the management commands: a command has no logged-in employee, so the project's
convention is a history row with no history user (a system write) and a change reason saying what did it;
seed_demo writes as the demo employees. Every row a command changes in a history-tracked model has a
history row with a reason; commands that write only models without history say so by asserting it.
``test_every_command_is_driven`` fails when a project command has no audit test here.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command, get_commands
from django.utils import timezone
from rest_framework.authtoken.models import Token

from config.models import IdempotencyKey
from issues.models import Notification, NotificationKind
from orders.models import Refund, RefundStatus
from returns.models import AccountAPIKey
from tests.factories import employee, issue_factory, order_with_items, submitted_appeasement
from tests.hardening.audit_helpers import Audit, is_tracked
from webhooks import services as webhook_services
from webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, EventType, OutboxEvent, Subscription

pytestmark = pytest.mark.django_db

PROJECT_APPS = {"config", "orders", "issues", "appeasements", "returns", "webhooks", "desk"}
DRIVEN = {
    "create_employee",
    "create_api_key",
    "seed_demo",
    "retry_stuck_refunds",
    "sync_appeasement_refunds",
    "send_follow_up_reminders",
    "issue_metrics_compact",
    "issue_metrics_rebuild",
    "prune_idempotency_keys",
    "webhooks_dispatch",
    "webhooks_prune",
    "send_pending_notifications",
    "scheduler",
    "release",
    "wait_for_migrations",
}


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def test_every_command_is_driven():
    project = {name for name, app in get_commands().items() if app in PROJECT_APPS}
    assert project == DRIVEN


# --------------------------------------------------------------------------- commands writing tracked rows


def test_retry_stuck_refunds_records_the_processor_outcome_as_a_system_write():
    order = order_with_items(items=1, unit_price=Decimal("20.00"))
    refund = Refund(order=order, amount=Decimal("5.00"), currency="USD", source="merchant")
    refund.save()
    refund.start_processing()
    refund.save()
    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - timedelta(hours=1))  # test data
    audit = Audit()
    assert "1 stuck refunds sent again" in run("retry_stuck_refunds")
    rows = audit.assert_by(None, label="retry_stuck_refunds")
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.COMPLETED
    # the refund's row, and the order's (its revision moves: its GET shows the refund's status)
    assert {r.history_change_reason for r in rows} == {
        "Refund completed by the processor",
        f"Refund {refund.refund_id} completed",
    }

    audit = Audit()  # nothing stuck any more: a second run writes nothing
    run("retry_stuck_refunds")
    audit.assert_nothing("retry_stuck_refunds again")


def test_sync_appeasement_refunds_records_the_catch_up_as_a_system_write(agent):
    from appeasements.models import AppeasementRefund, AppeasementRefundState

    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    row = AppeasementRefund.objects.get(appeasement=submitted_appeasement(order, agent, refund_type="storeCredit"))
    # the ledger refund settled an hour ago; the job copying its outcome was lost (test data)
    Refund.objects.filter(pk=row.ledger_refund_id).update(
        status=RefundStatus.COMPLETED, updated_at=timezone.now() - timedelta(hours=1)
    )
    audit = Audit()
    assert "1 appeasement refunds brought up to date" in run("sync_appeasement_refunds")
    rows = audit.assert_by(None, label="sync_appeasement_refunds")
    assert AppeasementRefund.objects.get(pk=row.pk).state == AppeasementRefundState.COMPLETE
    assert {r.history_change_reason for r in rows} == {"Ledger refund complete", f"Refund {row.refund_id} complete"}

    audit = Audit()  # nothing behind any more: a second run writes nothing
    run("sync_appeasement_refunds")
    audit.assert_nothing("sync_appeasement_refunds again")


def test_send_follow_up_reminders_notifies_as_a_system_write():
    agent = employee("emp_agent", "agent")
    issue_factory(
        order_with_items(),
        actor=agent,
        assigned_to=agent,
        follow_up_required=True,
        follow_up_date=timezone.now() - timedelta(hours=1),
    )
    audit = Audit()
    assert "1 follow-up reminder(s) sent" in run("send_follow_up_reminders")
    rows = audit.assert_by(None, label="send_follow_up_reminders")
    assert Notification.objects.filter(kind=NotificationKind.FOLLOW_UP_DUE, recipient=agent).count() == 1
    assert {r.history_change_reason for r in rows} == {"Notification: follow_up_due"}

    audit = Audit()  # once per issue and follow-up date
    run("send_follow_up_reminders")
    audit.assert_nothing("send_follow_up_reminders again")


def test_send_pending_notifications_emails_as_a_system_write():
    agent = employee("emp_agent", "agent")
    agent.email = "agent@example.com"
    agent.save()
    note = Notification.objects.create(recipient=agent, kind=NotificationKind.ASSIGNED, message="Assigned")
    Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(minutes=30))  # test data
    audit = Audit()
    assert "1 pending notification(s) e-mailed" in run("send_pending_notifications")
    rows = audit.assert_by(None, label="send_pending_notifications")
    assert {r.history_change_reason for r in rows} == {"E-mailed"}

    audit = Audit()  # once
    run("send_pending_notifications")
    audit.assert_nothing("send_pending_notifications again")


def test_scheduler_writes_only_its_own_bookkeeping_when_nothing_is_due():
    from config.models import SchedulerJob

    assert not is_tracked(SchedulerJob)
    audit = Audit()
    assert "stuck_refunds: ran" in run("scheduler", "--once")
    assert SchedulerJob.objects.count() == len(settings.SCHEDULER_JOBS)
    audit.assert_nothing("scheduler --once with nothing to do")


def test_the_release_step_and_the_wait_for_it_write_no_tracked_row(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "static"
    audit = Audit()
    assert "Released" in run("release")
    run("wait_for_migrations", "--timeout", "1")
    audit.assert_nothing("release, wait_for_migrations")


def test_seed_demo_writes_history_as_the_demo_employees():
    audit = Audit()
    run("seed_demo", "--orders", "4", "--refunds", "1", "--issues", "3")
    demo = list(get_user_model().objects.filter(username__in=["emp_cs_001", "emp_cs_002", "emp_mgr_001"]))
    rows = audit.assert_by(*demo, label="seed_demo")
    assert {r.instance_type._meta.label for r in rows} >= {
        "orders.Category",
        "orders.Order",
        "orders.OrderItem",
        "orders.Payment",
        "orders.Refund",
        "issues.OrderIssue",
        "issues.IssueNote",
    }


def test_seed_demo_scale_path_writes_history_as_the_demo_manager():
    run("seed_demo", "--orders", "1")  # employees and categories first
    audit = Audit()
    run("seed_demo", "--orders", "3", "--scale")
    manager = get_user_model().objects.get(username="emp_mgr_001")
    agents = list(get_user_model().objects.filter(username__in=["emp_cs_001", "emp_cs_002"]))
    audit.assert_by(manager, *agents, label="seed_demo --scale")


@pytest.fixture
def receiver(httpserver, settings):
    settings.WEBHOOKS_ALLOW_INSECURE = True  # the receiver is plain http on 127.0.0.1
    httpserver.expect_request("/hook", method="POST").respond_with_data("{}", status=200)
    return httpserver.url_for("/hook")


def test_webhooks_dispatch_delivers_and_records_subscription_changes_as_system_writes(
    receiver, django_capture_on_commit_callbacks
):
    """Fanning out and delivering writes deliveries (no history); a delivery that ends a failure run
    changes the subscription, which is history with a reason."""
    manager = employee("emp_manager", "manager")
    sub = webhook_services.subscription_create(
        actor=manager, url=receiver, account=settings.DEFAULT_ACCOUNT_ID, event_types=[]
    ).subscription
    sub._change_reason = "Test data: two failures in a row"
    sub.consecutive_failures = 2
    sub.save()
    webhook_services.event_emit(EventType.ORDER_CREATED, data={"x": 1}, account=settings.DEFAULT_ACCOUNT_ID)
    assert not any(is_tracked(m) for m in (OutboxEvent, Delivery, DeliveryAttempt))
    audit = Audit()
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 events dispatched" in run("webhooks_dispatch")
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    rows = audit.assert_by(None, label="webhooks_dispatch")
    assert [r.instance_type for r in rows] == [Subscription]
    assert Subscription.objects.get(pk=sub.pk).consecutive_failures == 0

    audit = Audit()  # nothing left to dispatch
    run("webhooks_dispatch")
    audit.assert_nothing("webhooks_dispatch again")


# --------------------------------------------------------------------------- commands writing only untracked rows


def test_create_employee_writes_only_models_without_history():
    assert not any(is_tracked(m) for m in (get_user_model(), Group, Token))
    audit = Audit()
    token = run("create_employee", "emp_new", "--role", "agent").strip().splitlines()[-1]
    assert Token.objects.get(user__username="emp_new").key == token
    audit.assert_nothing("create_employee")


def test_create_api_key_writes_only_models_without_history():
    assert not is_tracked(AccountAPIKey)
    audit = Audit()
    run("create_api_key", "storefront", "--account", "5e3598e3007c5e00080d2bb8")
    assert AccountAPIKey.objects.filter(name="storefront").exists()
    audit.assert_nothing("create_api_key")


def test_prune_idempotency_keys_deletes_only_rows_without_history():
    assert not is_tracked(IdempotencyKey)
    IdempotencyKey.objects.create(
        caller="user:1",
        key="k1",
        method="PATCH",
        path="/api/v1/orders/x",
        request_hash="0" * 64,
        status_code=200,
        expires_at=timezone.now() - timedelta(hours=1),
    )
    audit = Audit()
    assert "Pruned 1 expired" in run("prune_idempotency_keys")
    assert not IdempotencyKey.objects.exists()
    audit.assert_nothing("prune_idempotency_keys")


def test_webhooks_prune_deletes_only_rows_without_history():
    assert not any(is_tracked(m) for m in (OutboxEvent, Delivery))
    event = webhook_services.event_emit(EventType.ORDER_CREATED, data={}, account=settings.DEFAULT_ACCOUNT_ID)
    OutboxEvent.objects.filter(pk=event.pk).update(  # test data: settled long ago
        created_at=timezone.now() - timedelta(days=60), dispatched_at=timezone.now() - timedelta(days=60)
    )
    audit = Audit()
    assert "1 webhook events deleted" in run("webhooks_prune")
    assert not OutboxEvent.objects.exists()
    audit.assert_nothing("webhooks_prune")


def test_issue_metrics_commands_write_only_derived_rows_without_history():
    from issues.models import IssueMetricsCustomer, IssueMetricsCustomerDelta, IssueMetricsDelta, IssueMetricsRollup

    assert not any(
        is_tracked(m) for m in (IssueMetricsRollup, IssueMetricsDelta, IssueMetricsCustomer, IssueMetricsCustomerDelta)
    )
    issue_factory(order_with_items(customer_email="c@example.com"))
    audit = Audit()
    out = run("issue_metrics_compact")
    assert "compacted" in out or "nothing to compact" in out
    assert not IssueMetricsDelta.objects.exists()
    out = run("issue_metrics_rebuild")
    assert "rebuilt" in out or "nothing to rebuild" in out
    audit.assert_nothing("issue_metrics_compact and issue_metrics_rebuild")
