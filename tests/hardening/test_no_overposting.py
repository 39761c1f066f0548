"""Writes never bind fields the caller may not set: ids, totals, revisions, statuses outside the workflow and
history fields are refused by name (400 in the dialect's body) and nothing changes."""

import json
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from returns.models import AccountAPIKey
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db

ACCOUNT = "5e3598e3007c5e00080d2bb8"
FORBIDDEN = [
    "id",
    "pk",
    "revision",
    "order_total",
    "refunded_total",
    "history_user",
    "history_change_reason",
    "created_at",
    "issue_id",
    "order_id_internal",
]


@pytest.fixture
def world(agent):
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", account=ACCOUNT)
    issue = issue_factory(order, actor=agent, assigned_to=agent)
    return {"order": order, "issue": issue}


@pytest.mark.parametrize("field", FORBIDDEN)
def test_issue_patch_refuses_fields_the_caller_may_not_set(api, agent, world, field):
    issue = world["issue"]
    url = f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}"
    before = issue.history.count()
    r = api(agent).patch(url, {"notes": "x", "updated_by": agent.username, field: 1}, format="json")
    assert r.status_code == 400
    assert field in {e["field"] for e in r.json()["validation_errors"]}
    assert issue.history.count() == before


@pytest.mark.parametrize("field", FORBIDDEN)
def test_returns_refuse_fields_the_caller_may_not_set(api, agent, world, field):
    order = world["order"]
    body = {
        "return_code": "2001",
        "items": [{"order_item_id": str(order.items.first().order_item_id), "quantity": 1}],
        field: 1,
    }
    r = api(agent).post(f"/api/v1/orders/{order.order_id}/returns", body, format="json")
    assert r.status_code == 400
    assert not order.returns.exists()


@pytest.mark.parametrize("field", ["state", "id", "revision", "submittedDate", "creationDate", "lastModifiedDate"])
def test_appeasement_create_refuses_server_fields(agent, world, field):
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.get_or_create(user=agent)[0].key}")
    body = {
        "orderId": world["order"].order_id,
        "reason": "incorrectItem",
        "appeasementRefunds": [{"refundType": "externalRefund", "amount": 2}],
        field: "COMPLETE" if field == "state" else "x",
    }
    r = client.post("/ccagent/v1/appeasements", body, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["errorCode"] == "13001"


@pytest.mark.parametrize("field", ["status", "orderTotal", "revision", "id"])
def test_fabric_return_refuses_server_fields(world, field):
    _, key = AccountAPIKey.objects.create_key(name="storefront", account=ACCOUNT)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key, HTTP_X_SITE_CONTEXT=json.dumps({"account": ACCOUNT}))
    body = {"returnCode": "2001", "orderId": world["order"].order_id, field: 1}
    r = client.patch("/api-order/orders/return", body, format="json")
    assert r.status_code == 400
    assert r.json()["code"] == "VALIDATION_ERROR"
    assert not world["order"].returns.exists()
