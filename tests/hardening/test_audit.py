"""Audit completeness: every row an API write changes gets a history row naming the acting employee (or,
for the fabric API, the API key in the change reason) and a change reason; a refused request leaves none."""

import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from simple_history.models import registered_models

from returns.models import AccountAPIKey
from tests.factories import employee, issue_factory, order_with_items
from tests.hardening.audit_helpers import Audit

pytestmark = pytest.mark.django_db

ACCOUNT = "5e3598e3007c5e00080d2bb8"


def history_since(start):
    rows = []
    for model in registered_models.values():
        history = getattr(model, "history", None)
        if history is None:
            continue
        rows.extend(history.filter(history_date__gte=start))
    return rows


def history_count() -> int:
    return sum(m.history.count() for m in registered_models.values() if getattr(m, "history", None) is not None)


@pytest.fixture
def people(db):
    return {role: employee(f"emp_{role}", role) for role in ("agent", "manager")}


def token_client(user, keyword="Token") -> APIClient:
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {Token.objects.get_or_create(user=user)[0].key}")
    return client


def drive_every_api_write(people):
    agent, manager = people["agent"], people["manager"]
    done = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", account=ACCOUNT)
    accepted = order_with_items(items=1, status="accepted", account=ACCOUNT)
    cancellable = order_with_items(items=1, status="accepted", account=ACCOUNT)
    whole = order_with_items(items=1, status="completed", account=ACCOUNT)
    issue = issue_factory(done, actor=agent, assigned_to=agent)
    bo, mgr, cc = token_client(agent), token_client(manager), token_client(agent, "Bearer")
    _, key = AccountAPIKey.objects.create_key(name="storefront", account=ACCOUNT)
    start = timezone.now()  # test data above; every history row after this comes from an API write
    audit = Audit()
    ok = []
    ok.append(
        bo.post(
            f"/api/v1/orders/{done.order_id}/issues",
            {"issue_type": "other", "title": "Late", "notes": "Called"},
            format="json",
        )
    )
    ok.append(
        bo.patch(
            f"/api/v1/orders/{done.order_id}/issues/{issue.issue_id}",
            {"refund_amount": 5, "refund_source": "merchant", "notes": "Goodwill", "updated_by": agent.username},
            format="json",
        )
    )
    ok.append(
        bo.patch(
            f"/api/v1/orders/{accepted.order_id}/order-items/{accepted.items.get().order_item_id}",
            {"special_instructions": "Ring twice", "updated_by": agent.username},
            format="json",
        )
    )
    ok.append(
        mgr.patch(
            f"/api/v1/orders/{accepted.order_id}",
            {"status": "in_progress", "updated_by": manager.username},
            format="json",
        )
    )
    ok.append(
        bo.post(
            f"/api/v1/orders/{done.order_id}/returns",
            {"return_code": "2001", "items": [{"order_item_id": str(done.items.first().order_item_id), "quantity": 1}]},
            format="json",
        )
    )
    created = cc.post(
        "/ccagent/v1/appeasements",
        {
            "orderId": done.order_id,
            "reason": "incorrectItem",
            "appeasementRefunds": [{"refundType": "externalRefund", "amount": 2}],
        },
        format="json",
    )
    ok.append(created)
    ok.append(cc.put(f"/ccagent/v1/appeasements/{created.json()['id']}", {"notes": "Checked"}, format="json"))
    ok.append(cc.post("/ccagent/v1/appeasements/submit", {"id": created.json()["id"]}, format="json"))
    fabric = APIClient()
    fabric.credentials(HTTP_X_API_KEY=key, HTTP_X_SITE_CONTEXT=json.dumps({"account": ACCOUNT}))
    ok.append(
        fabric.patch(
            "/api-order/orders/cancel", {"cancellationCode": "1001", "orderId": cancellable.order_id}, format="json"
        )
    )
    ok.append(
        fabric.patch(
            "/api-order/orders/return",
            {"returnCode": "2001", "orderId": whole.order_id, "sugarRefund": True},
            format="json",
        )
    )
    return start, ok, audit


def test_every_api_write_leaves_history_with_actor_and_reason(people):
    start, answers, audit = drive_every_api_write(people)
    for r in answers:
        assert r.status_code < 300, r.content
    rows = history_since(start)
    assert len(rows) >= len(answers)
    for row in rows:
        label = f"{row.instance._meta.label} {row.history_type} {row.history_change_reason!r}"
        assert row.history_change_reason, label
        assert row.history_user_id is not None or "key" in row.history_change_reason.lower(), label
    changed = audit.changed()
    recorded = {(r.instance_type._meta.label, r.instance.pk) for r in rows}
    assert not changed - recorded, f"rows changed without a history row: {sorted(changed - recorded)}"


def test_refused_requests_leave_no_history(people, api, other_agent):
    done = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed")
    issue = issue_factory(done, actor=people["agent"], assigned_to=people["agent"])
    before = history_count()
    audit = Audit()
    url = f"/api/v1/orders/{done.order_id}/issues/{issue.issue_id}"
    refused = [
        api(None).patch(url, {"notes": "x", "updated_by": "emp_agent"}, format="json"),  # anonymous
        api(other_agent).patch(url, {"notes": "x", "updated_by": "emp_agent"}, format="json"),  # not the caller
        api(people["agent"]).patch(
            url,
            {"refund_amount": 10_000, "refund_source": "merchant", "notes": "x", "updated_by": "emp_agent"},
            format="json",
        ),
        api(people["agent"]).patch(url, {"notes": "x", "updated_by": "emp_agent"}, format="json", HTTP_IF_MATCH='"99"'),
        api(people["agent"]).patch(url, {"status": "closed", "notes": "x", "updated_by": "emp_agent"}, format="json"),
    ]
    assert all(r.status_code >= 400 for r in refused), [r.status_code for r in refused]
    assert history_count() == before
    audit.assert_nothing("refused API writes")


def test_admin_assign_to_me_action_leaves_history_with_the_employee(admin_client_for_agent):
    client, agent, issue = admin_client_for_agent
    start = timezone.now()
    r = client.post(
        "/admin/issues/orderissue/", {"action": "assign_to_me", "_selected_action": [issue.pk]}, follow=True
    )
    assert r.status_code == 200
    rows = history_since(start)
    assert rows, "the action changed nothing"
    for row in rows:
        assert row.history_user_id == agent.pk, row
        assert row.history_change_reason, row


@pytest.fixture
def admin_client_for_agent(client, people):
    other = employee("emp_other", "agent")
    issue = issue_factory(order_with_items(), actor=other, assigned_to=other)
    client.force_login(people["agent"])
    return client, people["agent"], issue
