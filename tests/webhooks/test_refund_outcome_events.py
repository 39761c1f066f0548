"""refund.completed and refund.failed: written in the transaction that records the refund's outcome, shaped like
refund.created (the refund as the REST API shows it, with order_id), once per refund (issue 21, item 4)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings as conf
from django.utils import timezone

from orders.api.serializers import RefundOutput
from orders.models import Refund, RefundSource, RefundStatus
from orders.services import refund_process, refund_record, refunds_retry_stuck
from tests.factories import issue_factory, order_with_items
from tests.webhooks.conftest import drain
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db

FAILING = "orders.refund_processors.AlwaysFailingRefundProcessor"


def events(*types):
    rows = OutboxEvent.objects.order_by("id")
    if types:
        rows = rows.filter(type__in=types)
    return [json.loads(e.body) for e in rows]


def rest(refund: Refund) -> dict:
    """The refund as the REST API shows it now, with its order's id (what refund.created carries)."""
    refund = Refund.objects.select_related("order").get(pk=refund.pk)
    data = {"order_id": refund.order.order_id, **RefundOutput(refund).data}
    return json.loads(json.dumps(data, default=lambda v: float(v) if isinstance(v, Decimal) else str(v)))  # as sent


@pytest.fixture
def order(db):
    return order_with_items(items=2, unit_price=Decimal("20.00"))  # 40.00 paid


def refund_for_issue(order, agent, capture, *, amount="5.00", source=RefundSource.MERCHANT) -> Refund:
    issue = issue_factory(order, actor=agent, assigned_to=agent)
    with capture(execute=True):
        refund = refund_record(
            order=order, actor=agent, amount=Decimal(amount), source=source, cause_type="issue", cause_id=issue.issue_id
        )
    refund.refresh_from_db()
    return refund


def test_a_refund_the_processor_refuses_emits_refund_failed(order, agent, settings, django_capture_on_commit_callbacks):
    settings.REFUND_PROCESSOR = FAILING
    refund = refund_for_issue(order, agent, django_capture_on_commit_callbacks)
    assert refund.status == RefundStatus.FAILED
    assert [e["type"] for e in events()] == ["refund.created", "refund.failed"]
    [failed] = events("refund.failed")
    assert failed["data"] == rest(refund)
    assert failed["data"]["status"] == "failed"
    assert failed["data"]["failure_reason"] == "Declined by the payment provider"
    assert failed["data"]["order_id"] == order.order_id
    assert failed["data"]["refund_id"] == refund.refund_id
    assert failed["data"]["processed_at"].endswith("Z")
    assert failed["account"] == order.account
    row = OutboxEvent.objects.get(type="refund.failed")
    assert row.order_key == order.order_id
    assert '"amount":5.00' in row.body  # money keeps its two places
    assert not events("refund.completed")


def test_a_refund_the_processor_pays_emits_refund_completed(order, agent, django_capture_on_commit_callbacks):
    refund = refund_for_issue(order, agent, django_capture_on_commit_callbacks)
    assert refund.status == RefundStatus.COMPLETED
    assert [e["type"] for e in events()] == ["refund.created", "refund.completed"]
    [completed] = events("refund.completed")
    assert completed["data"] == rest(refund)
    assert (completed["data"]["status"], completed["data"]["failure_reason"]) == ("completed", "")
    assert completed["data"]["processed_at"].endswith("Z")


def test_store_credit_completes_at_once_with_its_event(order, agent, django_capture_on_commit_callbacks):
    refund = refund_for_issue(order, agent, django_capture_on_commit_callbacks, source=RefundSource.STORE_CREDIT)
    assert [e["type"] for e in events()] == ["refund.created", "refund.completed"]
    assert events("refund.completed")[0]["data"] == rest(refund)


def test_the_created_event_still_shows_the_refund_pending(order, agent, django_capture_on_commit_callbacks):
    refund_for_issue(order, agent, django_capture_on_commit_callbacks)
    created, completed = events()
    assert created["data"]["status"] == "pending"  # a snapshot of the change that wrote it
    assert completed["data"]["status"] == "completed"
    assert created["data"]["refund_id"] == completed["data"]["refund_id"]


def test_no_outcome_event_while_the_refund_waits(order, agent):
    refund_record(order=order, actor=agent, amount=Decimal("5.00"), source=RefundSource.MERCHANT)  # never processed
    assert [e["type"] for e in events()] == ["refund.created"]


def test_processing_again_emits_nothing_again(order, agent, settings, django_capture_on_commit_callbacks):
    settings.REFUND_PROCESSOR = FAILING
    refund = refund_for_issue(order, agent, django_capture_on_commit_callbacks)
    assert refund_process(refund_pk=refund.pk) == RefundStatus.FAILED
    assert refunds_retry_stuck(older_than=timedelta(0)) == 0
    assert [e["type"] for e in events()] == ["refund.created", "refund.failed"]


def test_a_stuck_refund_sent_again_emits_its_outcome_once(order, settings):
    settings.SIMULATED_REFUND_FAILURE_RATE = 1.0
    refund = Refund(order=order, amount=Decimal("5.00"), currency="USD", source="merchant")
    refund.save()
    refund.start_processing()
    refund.save()
    Refund.objects.filter(pk=refund.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert refunds_retry_stuck(older_than=timedelta(minutes=15)) == 1
    assert refunds_retry_stuck(older_than=timedelta(minutes=15)) == 0
    [failed] = events()
    assert failed["type"] == "refund.failed"
    assert failed["data"]["failure_reason"] == "Simulated decline by the payment provider"


def test_an_outcome_that_rolls_back_leaves_no_event_and_the_refund_as_it_was(
    order, agent, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """The event, the notification and the status change are one transaction: when one fails, none is written
    (the refund stays in processing, and the stuck-refund command sends it again)."""
    settings.REFUND_PROCESSOR = FAILING

    def broken(**kwargs):
        raise RuntimeError("notifications are down")

    monkeypatch.setattr("issues.services.notifications.notify", broken)
    issue = issue_factory(order, actor=agent, assigned_to=agent)
    refund = refund_record(
        order=order, actor=agent, amount=Decimal("5.00"), source="merchant", cause_type="issue", cause_id=issue.issue_id
    )
    with pytest.raises(RuntimeError):
        refund_process(refund_pk=refund.pk)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PROCESSING
    assert [e["type"] for e in events()] == ["refund.created"]
    monkeypatch.undo()
    settings.REFUND_PROCESSOR = FAILING
    assert refunds_retry_stuck(older_than=timedelta(0), now=timezone.now() + timedelta(seconds=1)) == 1
    assert [e["type"] for e in events()] == ["refund.created", "refund.failed"]


def test_a_subscriber_of_the_outcomes_gets_them_signed_and_nothing_else(
    agent, settings, subscribe, receiver, django_capture_on_commit_callbacks
):
    subscribe(event_types=["refund.completed", "refund.failed"])
    order = order_with_items(items=2, unit_price=Decimal("20.00"), account=settings.DEFAULT_ACCOUNT_ID)
    paid = refund_for_issue(order, agent, django_capture_on_commit_callbacks)
    settings.REFUND_PROCESSOR = FAILING
    failed = refund_for_issue(order, agent, django_capture_on_commit_callbacks)
    drain()
    assert receiver.types == ["refund.completed", "refund.failed"]  # in commit order, verified signatures
    assert [r.body["data"]["refund_id"] for r in receiver.received] == [paid.refund_id, failed.refund_id]
    assert receiver.received[1].body["data"]["failure_reason"] == "Declined by the payment provider"
    assert receiver.unverified == []


def test_the_api_accepts_the_outcome_types_in_a_subscription(api, manager):
    created = api(manager).post(
        "/api/v1/webhooks/",
        {
            "url": "https://hooks.example.com/refunds",
            "account": conf.DEFAULT_ACCOUNT_ID,
            "event_types": ["refund.completed", "refund.failed"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["event_types"] == ["refund.completed", "refund.failed"]
