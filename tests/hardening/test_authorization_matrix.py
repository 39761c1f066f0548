"""Authorization matrix: every API operation x every kind of caller (the admin's pages: test_admin_matrix.py).

Callers: anonymous, an agent, another agent, a manager, a service account writing as itself, the same service
account acting for the agent (``updated_by`` / ``created_by`` / ``decided_by`` / ``agentId`` naming them), for
the manager without having been granted managers, a second service account granted managers acting for the
manager, a fabric key of the order's account and a fabric key of another account. Allowed callers succeed (an
on-behalf write's history rows name the employee and the service account); every other one is refused with the
dialect's error body, changes nothing (every row of the project's apps compared, history included) and no refused
answer carries the order's data.

On someone's behalf a service account has at most an agent's powers, and the named employee must hold the
endpoint's permission: it creates and moves orders as itself only, never decides a request, and changes only the
appeasements of the agent it acts for.
"""

import copy
import json
from decimal import Decimal

import pytest
from django.apps import apps
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appeasements import services as appeasement_services
from config.people import employee_upsert
from returns.models import AccountAPIKey
from tests.factories import CategoryFactory, employee, issue_factory, order_with_items
from tests.hardening.audit_helpers import Audit
from tests.orders.conftest import SEED_ORDER

pytestmark = pytest.mark.django_db

ACCOUNT = "5e3598e3007c5e00080d2bb8"
OTHER_ACCOUNT = "60aaaaaaaaaaaaaaaaaaaaaa"
# on-behalf callers: (service account's key in world["people"], the employee it names)
ON_BEHALF = {
    "svc_for_agent": ("service", "emp_cs_001"),
    "svc_for_manager": ("service", "emp_mgr_001"),  # not granted managers
    "svc_granted_for_manager": ("service_managers", "emp_mgr_001"),
}
CALLERS = ["anonymous", "agent", "other_agent", "manager", "service", *ON_BEHALF, "fabric_own", "fabric_other"]
SERVICES = {"service", *ON_BEHALF}
STAFF = {"agent", "other_agent", "manager"} | SERVICES  # reads: every employee token
# writes an agent may make, by whoever may write as an agent (the service itself, or for a granted employee)
AGENT_WRITES = {"agent", "other_agent", "manager", "service", "svc_for_agent", "svc_granted_for_manager"}
# the agent's own things (their appeasement, their request): them, a manager, or a service acting for them
OWNER = {"agent", "manager", "svc_for_agent"}


@pytest.fixture
def world(db):
    people = {
        "agent": employee("emp_cs_001", "agent"),
        "other_agent": employee("emp_cs_002", "agent"),
        "manager": employee("emp_mgr_001", "manager"),
        "service": employee("svc_storefront", "service"),
        "service_managers": employee("svc_backoffice", "service"),
    }
    employee_upsert(employee_id="svc_backoffice", role="service", act_for=["agent", "manager"])
    CategoryFactory(name="Home")
    done = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", account=ACCOUNT, channel=12)
    open_order = order_with_items(items=1, status="accepted", account=ACCOUNT, channel=12)
    issue = issue_factory(done, actor=people["agent"], assigned_to=people["agent"], status="in_progress")
    appeasement = appeasement_services.appeasement_create(
        caller=people["agent"],
        data=appeasement_services.AppeasementInput(
            order_id=done.order_id,
            reason="incorrectItem",
            refunds=[appeasement_services.RefundInput(refund_type="externalRefund", amount=Decimal("5.00"))],
            given={"orderId", "reason", "appeasementRefunds"},
        ),
    )
    # a pending escalation request of the agent, for the approval endpoints
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=people['agent'])[0].key}")
    r = client.patch(
        f"/api/v1/orders/{done.order_id}/issues/{issue.issue_id}",
        {"status": "escalated", "notes": "Needs a manager", "updated_by": "emp_cs_001"},
        format="json",
    )
    assert r.status_code == 202, r.content
    keys = {
        "fabric_own": AccountAPIKey.objects.create_key(name="own", account=ACCOUNT)[1],
        "fabric_other": AccountAPIKey.objects.create_key(name="other", account=OTHER_ACCOUNT)[1],
    }
    return {
        "people": people,
        "keys": keys,
        "done": done,
        "open": open_order,
        "issue": issue,
        "appeasement": appeasement,
        "approval": r.json()["approval_request_id"],
    }


def client_for(world, caller: str, dialect: str) -> APIClient:
    client = APIClient()
    person = ON_BEHALF[caller][0] if caller in ON_BEHALF else caller
    if person in world["people"]:
        token = Token.objects.get_or_create(user=world["people"][person])[0].key
        keyword = "Bearer" if dialect == "ccagent" else "Token"
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token}")
    elif caller.startswith("fabric"):
        account = ACCOUNT if caller == "fabric_own" else OTHER_ACCOUNT
        client.credentials(HTTP_X_API_KEY=world["keys"][caller], HTTP_X_SITE_CONTEXT=json.dumps({"account": account}))
    return client


def me(world, caller: str) -> str:
    """The employee a caller's body names: itself, or whom a service account acts for."""
    if caller in ON_BEHALF:
        return ON_BEHALF[caller][1]
    return world["people"][caller].username if caller in world["people"] else "emp_cs_001"


# (name, dialect, method, url(world), body(world, me) or None, callers allowed, success statuses)
def order_create_body(w, who):
    body = copy.deepcopy(SEED_ORDER)
    body["updated_by"] = who
    body.pop("order_id", None)
    return body


ENDPOINTS = [
    ("orders list", "bo", "get", lambda w, who: "/api/v1/orders", None, STAFF, {200}),
    ("order create", "bo", "post", lambda w, who: "/api/v1/orders", order_create_body, {"manager", "service"}, {201}),
    ("order detail", "bo", "get", lambda w, who: f"/api/v1/orders/{w['done'].order_id}", None, STAFF, {200}),
    (
        "order status",
        "bo",
        "patch",
        lambda w, who: f"/api/v1/orders/{w['open'].order_id}",
        lambda w, who: {"status": "in_progress", "updated_by": who},
        {"manager", "service"},
        {200},
    ),
    (
        "item patch",
        "bo",
        "patch",
        lambda w, who: f"/api/v1/orders/{w['open'].order_id}/order-items/{w['open'].items.get().order_item_id}",
        lambda w, who: {"special_instructions": "Ring twice", "updated_by": who},
        AGENT_WRITES,
        {200},
    ),
    ("categories", "bo", "get", lambda w, who: "/api/v1/categories", None, STAFF, {200}),
    (
        "category create",
        "bo",
        "post",
        lambda w, who: "/api/v1/categories",
        lambda w, who: {"name": "Garden", "updated_by": who},
        {"manager"},
        {201},
    ),
    ("order issues", "bo", "get", lambda w, who: f"/api/v1/orders/{w['done'].order_id}/issues", None, STAFF, {200}),
    (
        "issue create",
        "bo",
        "post",
        lambda w, who: f"/api/v1/orders/{w['done'].order_id}/issues",
        lambda w, who: {"issue_type": "other", "title": "Late", "notes": "Called", "created_by": who},
        AGENT_WRITES,
        {201},
    ),
    (
        "issue detail",
        "bo",
        "get",
        lambda w, who: f"/api/v1/orders/{w['done'].order_id}/issues/{w['issue'].issue_id}",
        None,
        STAFF,
        {200},
    ),
    (
        "issue patch",
        "bo",
        "patch",
        lambda w, who: f"/api/v1/orders/{w['done'].order_id}/issues/{w['issue'].issue_id}",
        lambda w, who: {"notes": "Called the customer", "updated_by": who},
        AGENT_WRITES,
        {200},
    ),
    (
        "issue history",
        "bo",
        "get",
        lambda w, who: f"/api/v1/orders/{w['done'].order_id}/issues/{w['issue'].issue_id}/history",
        None,
        STAFF,
        {200},
    ),
    ("issue queue", "bo", "get", lambda w, who: "/api/v1/issues", None, STAFF, {200}),
    ("issue metrics", "bo", "get", lambda w, who: "/api/v1/issues/metrics", None, STAFF, {200}),
    ("approvals", "bo", "get", lambda w, who: "/api/v1/approvals", None, STAFF, {200}),
    (
        "approval approve",
        "bo",
        "post",
        lambda w, who: f"/api/v1/approvals/{w['approval']}/approve",
        lambda w, who: {"note": "OK", "decided_by": who},
        {"manager"},
        {200},
    ),
    (
        "approval reject",
        "bo",
        "post",
        lambda w, who: f"/api/v1/approvals/{w['approval']}/reject",
        lambda w, who: {"note": "No", "decided_by": who},
        {"manager"},
        {200},
    ),
    (
        "approval cancel",
        "bo",
        "post",
        lambda w, who: f"/api/v1/approvals/{w['approval']}/cancel",
        lambda w, who: {"note": "Withdrawn", "decided_by": who},
        {"agent", "manager", "svc_for_agent"},
        {200},
    ),
    ("returns list", "bo", "get", lambda w, who: f"/api/v1/orders/{w['done'].order_id}/returns", None, STAFF, {200}),
    (
        "return create",
        "bo",
        "post",
        lambda w, who: f"/api/v1/orders/{w['done'].order_id}/returns",
        lambda w, who: {
            "return_code": "2001",
            "items": [{"order_item_id": str(w["done"].items.first().order_item_id), "quantity": 1}],
            "updated_by": who,
        },
        AGENT_WRITES,
        {201},
    ),
    ("appeasements", "ccagent", "get", lambda w, who: "/ccagent/v1/appeasements", None, STAFF, {200}),
    (
        "appeasement create",
        "ccagent",
        "post",
        lambda w, who: "/ccagent/v1/appeasements",
        lambda w, who: {
            "orderId": w["done"].order_id,
            "reason": "incorrectItem",
            "agentId": who,
            "appeasementRefunds": [{"refundType": "externalRefund", "amount": 2}],
        },
        AGENT_WRITES,
        {201},
    ),
    (
        "appeasement detail",
        "ccagent",
        "get",
        lambda w, who: f"/ccagent/v1/appeasements/{w['appeasement'].appeasement_id}",
        None,
        STAFF,
        {200},
    ),
    (
        "appeasement put",
        "ccagent",
        "put",
        lambda w, who: f"/ccagent/v1/appeasements/{w['appeasement'].appeasement_id}",
        lambda w, who: {"notes": "Updated", "agentId": who},
        OWNER,
        {200},
    ),
    (
        "appeasement delete",
        "ccagent",
        "delete",
        lambda w, who: f"/ccagent/v1/appeasements/{w['appeasement'].appeasement_id}?agentId={who}",
        None,
        OWNER,
        {204},
    ),
    (
        "appeasement initiate",
        "ccagent",
        "post",
        lambda w, who: "/ccagent/v1/appeasements/initiate",
        lambda w, who: {"orderId": w["done"].order_id},
        STAFF,
        {200},
    ),
    (
        "appeasement submit",
        "ccagent",
        "post",
        lambda w, who: "/ccagent/v1/appeasements/submit",
        lambda w, who: {"id": w["appeasement"].appeasement_id, "agentId": who},
        OWNER,
        {200},
    ),
    (
        "fabric order",
        "fabric",
        "get",
        lambda w, who: f"/api-order/orders/{w['done'].order_id}",
        None,
        {"fabric_own"},
        {200},
    ),
    (
        "fabric return",
        "fabric",
        "patch",
        lambda w, who: "/api-order/orders/return",
        lambda w, who: {"returnCode": "2001", "orderId": w["done"].order_id, "sugarRefund": False},
        {"fabric_own"},
        {200},
    ),
    (
        "fabric cancel",
        "fabric",
        "patch",
        lambda w, who: "/api-order/orders/cancel",
        lambda w, who: {"cancellationCode": "1001", "orderId": w["open"].order_id},
        {"fabric_own"},
        {200},
    ),
]

DIALECT_KEYS = {
    "bo": {"success", "message", "error_code"},
    "ccagent": {"errorCode", "message", "status", "errors"},
    "fabric": {"code", "message"},
}


# Every row of the project's apps, history tables included: a refused request must change none of them.
PROJECT_MODELS = [
    m
    for label in ("config", "orders", "issues", "appeasements", "returns", "webhooks")
    for m in apps.get_app_config(label).get_models()
]


def fingerprint() -> dict:
    return {m._meta.label: list(m._base_manager.order_by("pk").values_list()) for m in PROJECT_MODELS}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("name", "dialect", "method", "url", "body", "allowed", "ok"), ENDPOINTS, ids=[e[0] for e in ENDPOINTS]
)
def test_api_matrix(world, caller, name, dialect, method, url, body, allowed, ok):
    client = client_for(world, caller, dialect)
    who = me(world, caller)
    data = body(world, who) if body else None
    before, audit = fingerprint(), Audit()
    r = (
        getattr(client, method)(url(world, who), data, format="json")
        if data is not None
        else getattr(client, method)(url(world, who))
    )
    if caller in allowed:
        assert r.status_code in ok, (caller, name, r.status_code, r.content)
        names_them = who in json.dumps(data) or who in url(world, who)  # a write made as the named employee
        if caller in ON_BEHALF and names_them:  # the audit trail names the employee and the service account
            service = world["people"][ON_BEHALF[caller][0]]
            rows = [row for row in audit.rows() if row.history_user_id is not None]
            assert rows, f"{name}: an on-behalf write left no history"
            for row in rows:
                assert row.history_user.username == who, (name, row, row.history_user)
                assert row.history_via == service.username, (name, row, row.history_via)
        return
    assert r.status_code in (401, 403, 404), (caller, name, r.status_code, r.content)
    payload = r.json()
    assert DIALECT_KEYS[dialect] <= set(payload), payload
    text = r.content.decode()
    for secret in (world["done"].customer_email, world["open"].customer_email):
        assert secret not in text
    after = fingerprint()
    assert {k for k in before if before[k] != after[k]} == set(), f"{caller} {name}: the refusal changed rows"


def test_fabric_key_of_another_account_naming_ours_is_refused(world):
    client = APIClient()
    client.credentials(
        HTTP_X_API_KEY=world["keys"]["fabric_other"], HTTP_X_SITE_CONTEXT=json.dumps({"account": ACCOUNT})
    )
    r = client.get(f"/api-order/orders/{world['done'].order_id}")
    assert r.status_code == 403
    assert r.json()["code"] == "ACCOUNT_MISMATCH"


def test_fabric_channel_scopes_the_order(world):
    client = APIClient()
    client.credentials(
        HTTP_X_API_KEY=world["keys"]["fabric_own"],
        HTTP_X_SITE_CONTEXT=json.dumps({"account": ACCOUNT, "channel": 99}),
    )
    r = client.get(f"/api-order/orders/{world['done'].order_id}")
    assert r.status_code == 404
    assert world["done"].customer_email not in r.content.decode()
