"""Seed 004: the updateAppeasement example, answered in the seed's response shape."""

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from appeasements.api.views import SEED_REQUEST
from appeasements.models import (
    Appeasement,
    AppeasementComment,
    AppeasementOrigin,
    AppeasementReason,
    AppeasementRefund,
    AppeasementState,
    RefundType,
)
from orders.models import Payment, Refund, RefundCause, RefundStatus
from tests.appeasements.conftest import BASE
from tests.factories import employee, order_with_items

SEED_RESPONSE = {
    "reason": "incorrectItem",
    "agentId": "service",
    "notes": "Providing an appeasement of 20 USD which is 20% of the Order Total, according to the appeasement policy.",
    "comments": [
        {
            "agentId": "AgentBob",
            "comment": "Appeasement to be settled on priority. Valued customer.",
            "id": 100001,
            "creationDate": "2020-03-20T04:56:13.935Z",
        },
        {
            "agentId": "AgentBob",
            "comment": "Appeasement settled",
            "id": 100010,
            "creationDate": "2020-04-20T04:56:13.935Z",
        },
    ],
    "orderId": "o1234",
    "appeasementRefunds": [
        {
            "paymentGroupId": "pg1001",
            "amount": 20,
            "id": "ar1234",
            "state": "COMPLETE",
            "type": "externalRefund",
            "currencyCode": "USD",
        }
    ],
    "lastModifiedDate": "2020-03-20T05:15:05.645Z",
    "type": "order",
    "creationDate": "2020-03-20T04:56:13.935Z",
    "submittedDate": "2020-04-20T04:56:13.935Z",
    "profileId": "se-570031",
    "id": "app1234",
    "state": "SUBMITTED",
    "originOfAppeasement": "external",
}


@pytest.fixture
def seed_world(db):
    """The seed's world: order o1234 of 100 USD for profile se-570031 paid by pg1001, the service account
    ``service``, agent ``AgentBob``, and appeasement app1234 with refund ar1234 and comment 100001."""
    service = employee("service", "service")
    bob = employee("AgentBob", "agent")
    order = order_with_items(
        items=2, unit_price=Decimal("50.00"), status="completed", order_id="o1234", customer_id="se-570031"
    )
    Payment.objects.filter(order=order).update(payment_group_id="pg1001")
    payment = Payment.objects.get(order=order)
    appeasement = Appeasement.objects.create(
        appeasement_id="app1234",
        order=order,
        profile_id="se-570031",
        agent=service,
        reason=AppeasementReason.objects.get(code="incorrectItem"),
        origin=AppeasementOrigin.EXTERNAL,
    )
    AppeasementRefund.objects.create(
        refund_id="ar1234",
        appeasement=appeasement,
        refund_type=RefundType.objects.get(code="externalRefund"),
        payment_group_id="pg1001",
        payment=payment,
        amount=Decimal("20.00"),
        currency_code="USD",
    )
    AppeasementComment.objects.create(
        comment_id=100001,
        appeasement=appeasement,
        agent=bob,
        comment="Appeasement to be settled on priority. Valued customer.",
        created_at=datetime(2020, 3, 20, 4, 56, 13, 935000, tzinfo=UTC),
    )
    return {"service": service, "bob": bob, "order": order, "appeasement": appeasement}


def shape(value):
    """Keys and value types, recursively (the seed's 20 and our 20.00 are both numbers)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def test_seed_put_example_is_answered_in_the_seed_shape(seed_world, cc, django_capture_on_commit_callbacks):
    # when: the seed's request, verbatim, by the service account
    with django_capture_on_commit_callbacks(execute=True):
        r = cc(seed_world["service"]).put(f"{BASE}/app1234", copy.deepcopy(SEED_REQUEST), format="json")

    # then: the seed's response shape (our one extension, issueId, comes on top)
    assert r.status_code == 200, r.content
    data = r.json()
    assert set(data) - set(SEED_RESPONSE) == {"issueId"}
    assert {k: shape(v) for k, v in data.items() if k != "issueId"} == shape(SEED_RESPONSE)
    for key in ("reason", "agentId", "notes", "orderId", "type", "profileId", "id", "state", "originOfAppeasement"):
        assert data[key] == SEED_RESPONSE[key], key
    assert data["comments"][0] == SEED_RESPONSE["comments"][0]
    added = data["comments"][1]
    assert added["agentId"] == "AgentBob"
    assert added["comment"] == "Appeasement settled"
    assert isinstance(added["id"], int)
    assert added["id"] != 100001
    assert added["creationDate"].endswith("Z")
    assert len(added["creationDate"]) == len("2020-04-20T04:56:13.935Z")
    refund = data["appeasementRefunds"][0]
    assert {k: refund[k] for k in ("paymentGroupId", "id", "type", "currencyCode")} == {
        "paymentGroupId": "pg1001",
        "id": "ar1234",
        "type": "externalRefund",
        "currencyCode": "USD",
    }
    assert refund["amount"] == 20
    assert b'"amount":20.00' in r.content  # money as a JSON number with two places
    assert data["submittedDate"] is not None
    assert data["lastModifiedDate"] >= data["creationDate"]

    # and: the refund went through the ledger, and once processed the refund is COMPLETE
    ledger = Refund.objects.get(cause_type=RefundCause.APPEASEMENT, cause_id="app1234")
    assert ledger.amount == Decimal("20.00")
    assert ledger.payment.payment_group_id == "pg1001"
    assert ledger.status == RefundStatus.COMPLETED
    again = cc(seed_world["service"]).get(f"{BASE}/app1234").json()
    assert again["appeasementRefunds"][0]["state"] == "COMPLETE"
    assert AppeasementRefund.objects.get(refund_id="ar1234").state == "COMPLETE"  # synced by the task
    assert Appeasement.objects.get(appeasement_id="app1234").state == AppeasementState.SUBMITTED


def test_seed_put_repeated_after_submission_is_accepted_without_changes(
    seed_world, cc, django_capture_on_commit_callbacks
):
    client = cc(seed_world["service"])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.put(f"{BASE}/app1234", copy.deepcopy(SEED_REQUEST), format="json").json()
    # the client sends back what it got (ids now known), plus a new comment
    again = copy.deepcopy(SEED_REQUEST)
    again["comments"] = [*first["comments"], {"agentId": "AgentBob", "comment": "Customer thanked us"}]
    r = client.put(f"{BASE}/app1234", again, format="json")
    assert r.status_code == 200, r.content
    assert [c["comment"] for c in r.json()["comments"]][-1] == "Customer thanked us"
    assert len(r.json()["comments"]) == 3
    assert Refund.objects.filter(cause_id="app1234").count() == 1
