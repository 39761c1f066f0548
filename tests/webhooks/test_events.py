"""Every listed change writes exactly one outbox event in its own transaction, shaped like the REST API."""

import json
from decimal import Decimal

import pytest
from django.db import transaction

from appeasements import services as appeasements
from issues.api.serializers import ApprovalOutput, IssueOutput
from issues.selectors import approval_list, issue_list
from issues.services import approval_decide, issue_create, issue_update
from orders.models import OrderStatus, RefundSource
from orders.services import order_change_status, order_item_update, refund_record
from returns.services import LineRequest, ReturnActor, order_cancel, order_return_lines, order_return_whole
from tests.factories import order_with_items
from webhooks.models import OutboxEvent

pytestmark = pytest.mark.django_db


def events(*types):
    rows = OutboxEvent.objects.order_by("id")
    if types:
        rows = rows.filter(type__in=types)
    return [json.loads(e.body) for e in rows]


def test_issue_created_envelope_is_the_rest_representation(agent):
    # given
    order = order_with_items()
    # when
    issue = issue_create(order_id=order.order_id, actor=agent, data={"issue_type": "wrong_item", "title": "Wrong"})
    # then
    [event] = events()
    assert set(event) == {"id", "type", "created_at", "account", "data"}
    assert event["type"] == "issue.created"
    assert event["id"].startswith("msg_")
    assert event["created_at"].endswith("Z")
    assert event["account"] == order.account
    expected = json.loads(json.dumps(IssueOutput(issue_list().get(pk=issue.pk)).data, default=str))
    assert event["data"] == expected
    row = OutboxEvent.objects.get()
    assert (row.event_id, row.order_key, row.account) == (event["id"], order.order_id, order.account)


def test_rolled_back_change_leaves_no_event(agent):
    order = order_with_items()

    class Boom(Exception):
        pass

    inside = []

    def change_then_fail():
        with transaction.atomic():
            issue_create(order_id=order.order_id, actor=agent, data={"issue_type": "wrong_item", "title": "Wrong"})
            inside.append(OutboxEvent.objects.count())  # written inside the transaction
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()
    assert inside == [1]
    assert OutboxEvent.objects.count() == 0


def test_refused_change_leaves_no_event(agent):
    from config.errors import DomainError

    order = order_with_items()
    with pytest.raises(DomainError):
        refund_record(order=order, actor=agent, amount=Decimal("999.00"), source=RefundSource.STORE_CREDIT)
    assert OutboxEvent.objects.count() == 0


def test_issue_status_change_assignment_refund_and_approvals(agent, manager, other_agent):
    order = order_with_items(items=2, unit_price=Decimal("20.00"))
    issue = issue_create(order_id=order.order_id, actor=agent, data={"issue_type": "wrong_item", "title": "Wrong"})

    issue_update(
        order_id=order.order_id,
        issue_id=issue.issue_id,
        actor=agent,
        changes={"status": "investigating", "assigned_to": other_agent.username},
    )
    issue_update(
        order_id=order.order_id,
        issue_id=issue.issue_id,
        actor=agent,
        changes={"refund_amount": Decimal("5.00"), "refund_source": "store_credit", "notes": "Sorry"},
    )
    result = issue_update(
        order_id=order.order_id, issue_id=issue.issue_id, actor=agent, changes={"status": "escalated", "notes": "Help"}
    )
    approval_decide(approval_id=result.approval.approval_id, actor=manager, approve=True, note="OK")

    assert [e["type"] for e in events()] == [
        "issue.created",
        "issue.status_changed",
        "issue.assigned",
        "refund.created",
        "approval.requested",
        "issue.status_changed",
        "approval.decided",
    ]
    changes = events("issue.status_changed")
    assert [(c["data"]["from"], c["data"]["to"]) for c in changes] == [
        ("open", "investigating"),
        ("investigating", "escalated"),
    ]
    assert changes[0]["data"]["status"] == "investigating"
    assert events("issue.assigned")[0]["data"]["assigned_to"] == other_agent.username
    refund = events("refund.created")[0]["data"]
    assert (refund["order_id"], refund["amount"], refund["source"]) == (order.order_id, 5.0, "store_credit")
    assert '"amount":5.00' in OutboxEvent.objects.get(type="refund.created").body  # money keeps its two places
    decided = events("approval.decided")[0]
    approval = approval_list().get(approval_id=result.approval.approval_id)
    assert decided["data"] == json.loads(json.dumps(ApprovalOutput(approval).data, default=str))
    assert decided["data"]["state"] == "approved"


def test_order_item_update_and_cancel(agent, manager):
    order = order_with_items()
    item = order.items.first()
    order_item_update(
        order_id=order.order_id, order_item_id=str(item.order_item_id), actor=agent, changes={"preparation_notes": "x"}
    )
    order_item_update(  # no change: no event
        order_id=order.order_id, order_item_id=str(item.order_item_id), actor=agent, changes={"preparation_notes": "x"}
    )
    order_change_status(order_id=order.order_id, actor=manager, status=OrderStatus.CANCELED, reason="Customer asked")
    [updated, cancelled, refunded] = events()  # the paid order's cancellation refunds it (issue 21)
    assert updated["type"] == "order_item.updated"
    assert updated["data"]["order_item_id"] == str(item.order_item_id)
    assert updated["data"]["order_id"] == order.order_id
    assert updated["data"]["updated_fields"] == ["preparation_notes"]
    assert cancelled["type"] == "order.cancelled"
    assert cancelled["data"]["order_id"] == order.order_id
    assert (cancelled["data"]["status"], cancelled["data"]["to"]) == ("canceled", "canceled")
    assert refunded["type"] == "refund.created"
    assert (refunded["data"]["cause_type"], refunded["data"]["amount"]) == ("cancellation", 20.0)


def test_fabric_cancel_is_order_cancelled(agent):
    order = order_with_items()
    order_cancel(order_id=order.order_id, actor=ReturnActor.employee(agent), cancellation_code="1001")
    # then the refund of what was paid, in the same transaction
    assert [e["type"] for e in events()] == ["order.cancelled", "refund.created"]
    assert events("refund.created")[0]["data"]["cause_id"] == order.order_id


def test_returns(agent):
    whole = order_with_items(status=OrderStatus.COMPLETED)
    order_return_whole(order_id=whole.order_id, actor=ReturnActor.employee(agent), return_code="2001", refund=True)
    lines = order_with_items(status=OrderStatus.COMPLETED)
    order_return_lines(
        order_id=lines.order_id,
        actor=ReturnActor.employee(agent),
        return_code="2001",
        lines=[LineRequest(str(lines.items.first().order_item_id), 1)],
    )
    assert [e["type"] for e in events()] == ["refund.created", "return.created", "return.created"]
    first = events("return.created")[0]["data"]
    assert first["order_id"] == whole.order_id
    assert first["scope"] == "order"
    assert first["refunds"][0]["amount"] == 20.0


def test_appeasements(agent, manager, settings):
    settings.APPEASEMENT_POLICY_SHARE = 1
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    created = appeasements.appeasement_create(
        caller=agent,
        data=appeasements.AppeasementInput(
            order_id=order.order_id,
            reason="incorrectItem",
            refunds=[appeasements.RefundInput(refund_type="storeCredit", amount=Decimal("15.00"))],
        ),
    )
    appeasements.appeasement_submit(appeasement_id=created.appeasement_id, caller=agent)
    assert [e["type"] for e in events()] == ["appeasement.created", "refund.created", "appeasement.submitted"]
    submitted = events("appeasement.submitted")[0]["data"]
    assert (submitted["id"], submitted["state"], submitted["orderId"]) == (
        created.appeasement_id,
        "SUBMITTED",
        order.order_id,
    )


def test_over_policy_appeasement_requests_approval(agent, manager, settings):
    settings.APPEASEMENT_POLICY_SHARE = 0.01
    order = order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")
    created = appeasements.appeasement_create(
        caller=agent,
        data=appeasements.AppeasementInput(
            order_id=order.order_id,
            reason="incorrectItem",
            refunds=[appeasements.RefundInput(refund_type="storeCredit", amount=Decimal("15.00"))],
            state="SUBMITTED",
        ),
    )
    assert [e["type"] for e in events()] == ["appeasement.created", "approval.requested"]
    requested = events("approval.requested")[0]
    assert requested["data"]["target_id"] == created.appeasement_id
    assert OutboxEvent.objects.get(type="approval.requested").order_key == order.order_id


def test_refund_requests_about_an_order_or_a_return_carry_the_orders_account(agent, manager):
    """Approval events of refund requests that belong to no issue (the admin's order refund form, a return's refund
    over the limit) name the order's account, so its subscribers receive them."""
    from issues.refund_requests import refund_or_request
    from orders.models import RefundLimit

    RefundLimit.objects.create(employee=agent, limit=Decimal("1.00"))
    paid = order_with_items(status=OrderStatus.COMPLETED, account="5e3598e3007c5e00080d2bb9")
    with transaction.atomic():
        by_order = refund_or_request(
            order=paid,
            actor=agent,
            amount=Decimal("5.00"),
            source=RefundSource.MERCHANT,
            cause_type="none",
            cause_id="",
            reason="Late",
        )
    returned = order_with_items(status=OrderStatus.COMPLETED, account="5e3598e3007c5e00080d2bba")
    ret = order_return_whole(
        order_id=returned.order_id, actor=ReturnActor.employee(agent), return_code="2001", refund=True
    )
    assert ret.refund_approval_id
    approval_decide(approval_id=by_order.approval_id, actor=manager, approve=True, note="ok")

    accounts = [(e["type"], e["data"]["target_type"], e["account"]) for e in events("approval.requested")]
    assert accounts == [
        ("approval.requested", "order", paid.account),
        ("approval.requested", "return", returned.account),
    ]
    [decided] = events("approval.decided")
    assert decided["account"] == paid.account
