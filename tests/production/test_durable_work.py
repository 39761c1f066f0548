"""Background work that cannot be lost (docs/adr/0014-task-backend-on-several-nodes.md).

A refund whose job was lost (pending) or whose worker died (processing) is sent again by the sweep; a failure to
enqueue after commit never turns a committed write into an error; one webhook dispatch job per transaction.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from config import tasks as config_tasks
from orders.models import Refund, RefundStatus
from orders.services import refunds_retry_stuck
from tests.factories import issue_factory, order_with_items
from webhooks.models import OutboxEvent
from webhooks.services import event_emit

UNREACHABLE_REDIS = "redis://127.0.0.1:18199/3"  # a closed port: every enqueue fails at once


def refund_row(order, *, status: str, minutes_ago: int, amount: str = "5.00") -> Refund:
    refund = Refund(order=order, amount=Decimal(amount), currency="USD", source="merchant")
    refund.save()
    if status == RefundStatus.PROCESSING:
        refund.start_processing()
        refund.save()
    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - timedelta(minutes=minutes_ago))
    return refund


@pytest.mark.django_db
def test_the_sweep_sends_refunds_left_pending_or_processing_and_leaves_fresh_ones():
    order = order_with_items(items=2, unit_price=Decimal("20.00"))
    lost = refund_row(order, status=RefundStatus.PENDING, minutes_ago=30)
    dead = refund_row(order, status=RefundStatus.PROCESSING, minutes_ago=30)
    fresh = refund_row(order, status=RefundStatus.PENDING, minutes_ago=1)

    assert refunds_retry_stuck(older_than=timedelta(minutes=15)) == 2

    for refund in (lost, dead, fresh):
        refund.refresh_from_db()
    assert (lost.status, dead.status, fresh.status) == ("completed", "completed", "pending")
    assert lost.external_reference == f"sim_{lost.refund_id}"  # the processor's idempotency key is the refund id
    reasons = list(lost.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons[-2:] == ["Sent to the refund processor", "Refund completed by the processor"]


@pytest.mark.django_db
def test_a_late_job_for_a_refund_the_sweep_sent_does_nothing(monkeypatch):
    order = order_with_items()
    lost = refund_row(order, status=RefundStatus.PENDING, minutes_ago=30)
    from orders.refund_processors import SimulatedRefundProcessor

    calls = []
    real = SimulatedRefundProcessor.refund

    def counted(self, refund):
        calls.append(refund.refund_id)
        return real(self, refund)

    monkeypatch.setattr(SimulatedRefundProcessor, "refund", counted)
    refunds_retry_stuck(older_than=timedelta(minutes=15))
    from orders.services import refund_process

    assert refund_process(refund_pk=lost.pk) == "completed"  # the job the queue lost arrives after all
    assert calls == [lost.refund_id]
    assert lost.history.count() == 3  # created, sent, completed: nothing more


@pytest.mark.django_db
def test_one_refund_that_errors_does_not_stop_the_sweep(monkeypatch, caplog):
    order = order_with_items(items=2, unit_price=Decimal("20.00"))
    first = refund_row(order, status=RefundStatus.PENDING, minutes_ago=40)
    second = refund_row(order, status=RefundStatus.PENDING, minutes_ago=30)
    from orders import services

    real = services.refund_process

    def flaky(*, refund_pk):
        if refund_pk == first.pk:
            raise RuntimeError("database hiccup")
        return real(refund_pk=refund_pk)

    monkeypatch.setattr(services, "refund_process", flaky)
    with caplog.at_level(logging.ERROR, logger="orders.services"):
        assert refunds_retry_stuck(older_than=timedelta(minutes=15)) == 2
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("pending", "completed")
    assert "could not be sent again" in caplog.text


@pytest.mark.django_db
def test_the_command_sweeps_pending_refunds_past_its_threshold():
    order = order_with_items()
    lost = refund_row(order, status=RefundStatus.PENDING, minutes_ago=3)
    call_command("retry_stuck_refunds", "--older-than-minutes", "5", verbosity=0)
    lost.refresh_from_db()
    assert lost.status == RefundStatus.PENDING
    call_command("retry_stuck_refunds", "--older-than-minutes", "2", verbosity=0)
    lost.refresh_from_db()
    assert lost.status == RefundStatus.COMPLETED


# ----------------------------------------------------------------------------- a failed enqueue after commit


@pytest.fixture
def _groups(transactional_db):
    """Transactional tests flush the tables: grant the groups' permissions again (as the data migrations do)."""
    from django.apps import apps

    from config.permissions import sync_groups

    sync_groups(apps)


@pytest.fixture
def unreachable_redis(settings):
    settings.RQ_QUEUES = {"default": {"URL": UNREACHABLE_REDIS, "DEFAULT_TIMEOUT": 5}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_groups", "unreachable_redis")
def test_a_refund_whose_job_cannot_be_queued_is_committed_answered_200_and_swept(api, agent, caplog):
    order = order_with_items(items=2, unit_price=Decimal("20.00"))
    issue = issue_factory(order, status="open", actor=agent, assigned_to=agent)
    with caplog.at_level(logging.ERROR, logger="config.tasks"):
        response = api(agent).patch(
            f"/api/v1/orders/{order.order_id}/issues/{issue.issue_id}",
            {"refund_amount": 7.5, "refund_source": "merchant", "updated_by": agent.username},
            format="json",
        )
    assert response.status_code == 200, response.content
    assert response.json()["refund_processed"] is True
    refund = Refund.objects.get(order=order)
    assert refund.status == RefundStatus.PENDING  # committed; its job was never queued
    assert "could not enqueue orders.services.process_refund after commit" in caplog.text

    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - timedelta(minutes=20))
    call_command("retry_stuck_refunds", verbosity=0)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.COMPLETED


# ----------------------------------------------------------------------------- one dispatch job per transaction


class Recorder:
    backend = "default"
    module_path = "tests.recorder"

    def __init__(self):
        self.calls = 0

    def enqueue(self, *args, **kwargs):
        self.calls += 1


@pytest.fixture
def dispatch_jobs(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr("webhooks.services.dispatch_outbox", recorder)
    return recorder


@pytest.mark.django_db
def test_one_dispatch_job_per_transaction_however_many_events(dispatch_jobs, django_capture_on_commit_callbacks):
    order = order_with_items()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            for _ in range(5):
                event_emit("order.created", order)
    assert OutboxEvent.objects.count() == 5
    assert dispatch_jobs.calls == 1

    with django_capture_on_commit_callbacks(execute=True):  # the next transaction gets its own job
        with transaction.atomic():
            event_emit("order.created", order)
            event_emit("order.created", order)
    assert dispatch_jobs.calls == 2


@pytest.mark.django_db
def test_a_rolled_back_savepoint_takes_its_dispatch_job_along(dispatch_jobs, django_capture_on_commit_callbacks):
    order = order_with_items()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            try:
                with transaction.atomic():
                    event_emit("order.created", order)
                    raise RuntimeError("rolled back")
            except RuntimeError:
                pass
            event_emit("order.created", order)
    assert OutboxEvent.objects.count() == 1
    assert dispatch_jobs.calls == 1


@pytest.mark.django_db
def test_an_enqueue_that_fails_after_commit_is_logged_not_raised(caplog, django_capture_on_commit_callbacks):
    class Broken(Recorder):
        def enqueue(self, *args, **kwargs):
            raise ConnectionError("Redis is down")

    with caplog.at_level(logging.ERROR, logger="config.tasks"), django_capture_on_commit_callbacks(execute=True):
        config_tasks.enqueue_after_commit(Broken(), 1)
    assert "could not enqueue tests.recorder after commit" in caplog.text


# ----------------------------------------------------------------------------- notification e-mails whose job was lost


@pytest.mark.django_db
def test_notifications_never_emailed_are_sent_once_within_a_day(agent):
    from django.core import mail

    from issues.models import Notification

    def row(minutes_ago: int, **kw) -> Notification:
        note = Notification.objects.create(kind="assigned", message="Issue assigned to you", **kw)
        Notification.objects.filter(pk=note.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
        return note

    agent.email = "agent@example.com"
    agent.save()
    lost = row(30, recipient=agent)
    customer = row(30, recipient_email="customer@example.com")
    fresh = row(1, recipient=agent)
    too_old = row(60 * 25, recipient=agent)

    call_command("send_pending_notifications", verbosity=0)
    call_command("send_pending_notifications", verbosity=0)  # again: nothing twice

    assert sorted(m.to[0] for m in mail.outbox) == ["agent@example.com", "customer@example.com"]
    emailed = set(Notification.objects.filter(emailed_at__isnull=False).values_list("pk", flat=True))
    assert emailed == {lost.pk, customer.pk}
    assert fresh.pk not in emailed
    assert too_old.pk not in emailed
