"""ETag = revision on orders, items, issues and appeasements; a stale If-Match is 412 and changes nothing."""

import pytest

from appeasements.models import Appeasement
from orders.models import Order, OrderItem
from tests.factories import order_with_items
from tests.hardening.conftest import fabric_client

pytestmark = pytest.mark.django_db


def test_order_get_has_its_revision_as_etag_and_a_stale_if_match_is_refused(api, manager):
    order = order_with_items(status="accepted")
    url = f"/api/v1/orders/{order.order_id}"
    r = api(manager).get(url)
    assert r["ETag"] == f'"{order.revision}"'
    body = {"status": "in_progress", "updated_by": manager.username}
    # when
    stale = api(manager).patch(url, body, format="json", HTTP_IF_MATCH=f'"{order.revision - 1}"')
    # then
    assert stale.status_code == 412
    assert stale.json()["error_code"] == "PRECONDITION_FAILED"
    assert stale.json()["current_revision"] == order.revision
    assert Order.objects.get(pk=order.pk).status == "accepted"
    ok = api(manager).patch(url, body, format="json", HTTP_IF_MATCH=r["ETag"])
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] == f'"{order.revision + 1}"'


def test_item_patch_checks_the_item_revision(api, agent):
    order = order_with_items(status="accepted")
    item = order.items.first()
    url = f"/api/v1/orders/{order.order_id}/order-items/{item.order_item_id}"
    body = {"special_instructions": "Leave at the door", "updated_by": agent.username}
    stale = api(agent).patch(url, body, format="json", HTTP_IF_MATCH='"7"')
    assert stale.status_code == 412
    assert OrderItem.objects.get(pk=item.pk).special_instructions != "Leave at the door"
    ok = api(agent).patch(url, body, format="json", HTTP_IF_MATCH=f'W/"{item.revision}"')
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] == f'"{item.revision + 1}"'


def test_issue_etag_and_if_match(api, agent, issue):
    url = f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}"
    etag = api(agent).get(url)["ETag"]
    body = {"priority": "high", "notes": "Customer waiting", "updated_by": agent.username}
    first = api(agent).patch(url, body, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    history = issue.history.count()
    # a second writer still holding the old ETag
    second = api(agent).patch(url, {**body, "priority": "critical"}, format="json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert issue.history.count() == history
    issue.refresh_from_db()
    assert issue.priority == "high"
    assert api(agent).patch(url, body, format="json", HTTP_IF_MATCH="*").status_code == 200


def test_malformed_if_match_is_a_validation_error(api, agent, issue):
    url = f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}"
    r = api(agent).patch(url, {"priority": "high", "updated_by": agent.username}, format="json", HTTP_IF_MATCH="3")
    assert r.status_code == 400
    assert r.json()["validation_errors"][0]["field"] == "If-Match"


def test_appeasement_etag_moves_with_every_change(cc, agent, order):
    body = {
        "orderId": order.order_id,
        "reason": "incorrectItem",
        "appeasementRefunds": [{"refundType": "externalRefund", "amount": 5, "currencyCode": order.currency}],
    }
    created = cc(agent).post("/ccagent/v1/appeasements", body, format="json")
    url = f"/ccagent/v1/appeasements/{created.json()['id']}"
    etag = cc(agent).get(url)["ETag"]
    assert etag == created["ETag"] == '"1"'
    ok = cc(agent).put(url, {"notes": "first"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200, ok.content
    assert ok["ETag"] == '"2"'
    stale = cc(agent).put(url, {"notes": "second"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["errorCode"] == "412"
    assert stale.json()["status"] == "412"
    assert Appeasement.objects.get().notes == "first"
    submit = cc(agent).post(
        "/ccagent/v1/appeasements/submit", {"id": created.json()["id"]}, format="json", HTTP_IF_MATCH=etag
    )
    assert submit.status_code == 412
    assert Appeasement.objects.get().state == "INCOMPLETE"


def test_fabric_order_etag_and_stale_return(order, fabric_key):
    client = fabric_client(fabric_key)
    etag = client.get(f"/api-order/orders/{order.order_id}")["ETag"]
    body = {"returnCode": "2001", "orderId": order.order_id, "sugarRefund": True}
    stale = client.patch("/api-order/orders/return", body, format="json", HTTP_IF_MATCH='"999"')
    assert stale.status_code == 412
    assert stale.json()["code"] == "PRECONDITION_FAILED"
    assert not order.returns.exists()
    ok = client.patch("/api-order/orders/return", body, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200, ok.content
