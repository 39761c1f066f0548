"""Idempotency-Key: a retry gets the first answer and does nothing more, in all three dialects."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from appeasements.models import Appeasement
from config.models import IdempotencyKey
from orders.models import Refund
from returns.models import Return
from tests.hardening.conftest import ACCOUNT, fabric_client

pytestmark = pytest.mark.django_db


def issue_url(issue) -> str:
    return f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}"


def refund_body(amount=5) -> dict:
    return {"refund_amount": amount, "refund_source": "merchant", "notes": "Goodwill", "updated_by": "emp_cs_001"}


def test_issue_patch_retry_replays_the_first_answer_and_refunds_once(api, agent, issue):
    client = api(agent)
    # when
    first = client.patch(issue_url(issue), refund_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.patch(issue_url(issue), refund_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # then
    assert first.status_code == 200, first.content
    assert again.status_code == 200
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert again["ETag"] == first["ETag"]
    assert Refund.objects.filter(order=issue.order).count() == 1
    assert issue.history.count() == 2  # created + one update


def test_a_new_key_is_a_new_request(api, agent, issue):
    client = api(agent)
    client.patch(issue_url(issue), refund_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    client.patch(issue_url(issue), refund_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert Refund.objects.filter(order=issue.order).count() == 2


def test_same_key_other_body_is_refused_without_a_trace(api, agent, issue):
    client = api(agent)
    client.patch(issue_url(issue), refund_body(5), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    history = issue.history.count()
    # when
    r = client.patch(issue_url(issue), refund_body(6), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    # then
    assert r.status_code == 422
    assert r.json()["error_code"] == "IDEMPOTENCY_KEY_REUSED"
    assert r.json()["success"] is False
    assert Refund.objects.filter(order=issue.order).count() == 1
    assert issue.history.count() == history


def test_keys_are_per_caller(api, agent, manager, issue):
    body = refund_body()
    api(agent).patch(issue_url(issue), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    body["updated_by"] = manager.username
    r = api(manager).patch(issue_url(issue), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert r.status_code == 200
    assert "Idempotent-Replayed" not in r
    assert Refund.objects.filter(order=issue.order).count() == 2


def test_a_client_error_is_kept_and_replayed(api, agent, issue):
    body = refund_body(10_000)  # more than was paid: 422 REFUND_PROCESSING_ERROR
    first = api(agent).patch(issue_url(issue), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api(agent).patch(issue_url(issue), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 422
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again["Idempotent-Replayed"] == "true"


def test_a_stale_if_match_is_not_kept_so_a_corrected_retry_may_run(api, agent, issue):
    body = refund_body()
    stale = api(agent).patch(issue_url(issue), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1", HTTP_IF_MATCH='"99"')
    assert stale.status_code == 412
    assert not IdempotencyKey.objects.exists()
    fresh = api(agent).patch(issue_url(issue), body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert fresh.status_code == 200


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_a_validation_error(api, agent, issue, key):
    r = api(agent).patch(issue_url(issue), refund_body(), format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 400
    assert r.json()["validation_errors"][0]["field"] == "Idempotency-Key"
    assert not Refund.objects.exists()


def test_appeasement_create_retry_creates_one(cc, agent, order):
    body = {
        "orderId": order.order_id,
        "reason": "incorrectItem",
        "appeasementRefunds": [{"refundType": "externalRefund", "amount": 5, "currencyCode": order.currency}],
    }
    first = cc(agent).post("/ccagent/v1/appeasements", body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    again = cc(agent).post("/ccagent/v1/appeasements", body, format="json", HTTP_IDEMPOTENCY_KEY="a-1")
    assert first.status_code == 201, first.content
    assert (again.status_code, again.content) == (201, first.content)
    assert Appeasement.objects.count() == 1
    # the same key for another body: the commerce-agent error model
    other = cc(agent).post(
        "/ccagent/v1/appeasements", {**body, "notes": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="a-1"
    )
    assert other.status_code == 422
    assert other.json()["errorCode"] == "13001"
    assert "Idempotency-Key" in other.json()["message"]
    assert set(other.json()) >= {"errorCode", "message", "status", "errors"}


def test_fabric_return_retry_returns_once(order, fabric_key):
    client = fabric_client(fabric_key)
    body = {"returnCode": "2001", "orderId": order.order_id, "sugarRefund": True}
    first = client.patch("/api-order/orders/return", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    again = client.patch("/api-order/orders/return", body, format="json", HTTP_IDEMPOTENCY_KEY="r-1")
    assert first.status_code == 200, first.content
    assert (again.status_code, again.content) == (200, first.content)
    assert Return.objects.filter(order=order).count() == 1
    other = client.patch(
        "/api-order/orders/return", {**body, "returnMessage": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"
    )
    assert other.status_code == 422
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert other.json()["field"] == "Idempotency-Key"


def test_backoffice_return_retry_returns_once(api, agent, order):
    item = order.items.first()
    body = {
        "return_code": "2001",
        "items": [{"order_item_id": str(item.order_item_id), "quantity": 1}],
        "refund": True,
    }
    url = f"/api/v1/orders/{order.order_id}/returns"
    first = api(agent).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    again = api(agent).post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert first.status_code == 201, first.content
    assert again.content == first.content
    assert Return.objects.filter(order=order).count() == 1
    assert ACCOUNT == order.account


def test_prune_deletes_only_expired_keys(api, agent, issue):
    api(agent).patch(issue_url(issue), refund_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    api(agent).patch(issue_url(issue), refund_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    IdempotencyKey.objects.filter(key="k-1").update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    call_command("prune_idempotency_keys")
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["k-2"]


def test_an_expired_key_runs_again(api, agent, issue):
    api(agent).patch(issue_url(issue), refund_body(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    IdempotencyKey.objects.update(expires_at=timezone.now() - timezone.timedelta(seconds=1))
    r = api(agent).patch(issue_url(issue), refund_body(6), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert r.status_code == 200
    assert Refund.objects.filter(order=issue.order).count() == 2
