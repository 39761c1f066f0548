"""Orders: create, list, detail and status moves through /api/v1/orders."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from config.people import employee_upsert
from orders.models import Order, OrderStatus, RefundSource
from orders.services import refund_record
from tests.factories import CategoryFactory, OrderFactory, ShipmentFactory, order_with_items

pytestmark = pytest.mark.django_db


# ----------------------------------------------------------------- create


def test_create_seed_order_computes_totals(api, manager, home, seed_order_body):
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")

    assert r.status_code == 201, r.content
    body = r.json()
    assert body["order_id"] == "1626-4972-66351"
    assert body["status"] == "pending"
    assert (body["subtotal"], body["tax_total"], body["order_total"]) == (44.0, 0.45, 44.45)
    assert b'"subtotal":44.00' in r.content
    assert b'"tax_total":0.45' in r.content
    assert b'"order_total":44.45' in r.content
    assert body["refunded_total"] == 0
    assert body["refundable_amount"] == 44.45
    assert body["account"] == "5e3598e3007c5e00080d2bb8"
    assert body["channel"] == 12
    assert body["customer"] == {**seed_order_body["customer"], "middle_name": "", "phone_kind": ""}
    assert body["ship_to"]["zip_code"] == "98004"
    assert body["shipments"] == []
    assert body["refunds"] == []
    [item] = body["items"]
    assert re.fullmatch(r"[0-9a-f-]{36}", item["order_item_id"])
    assert item["store_item_category"] == "Home"
    assert item["quantity"] == 10
    assert b'"unit_price":4.50' in r.content
    assert [p["amount"] for p in body["payments"]] == [44.45]
    assert body["revision"] == 1
    assert body["created_at"].endswith("Z")

    order = Order.objects.get(order_id="1626-4972-66351")
    assert order.order_total == Decimal("44.45")
    assert order.history.latest().history_user == manager
    assert order.items.get().history.latest().history_user == manager


@pytest.mark.parametrize("field", ["order_total", "subtotal", "tax_total", "status", "refunded_total"])
def test_create_never_trusts_client_totals(api, manager, home, seed_order_body, field):
    seed_order_body[field] = 1.00
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 400
    assert r.json() == {
        "success": False,
        "message": "Field validation failed",
        "error_code": "VALIDATION_ERROR",
        "validation_errors": [{"field": field, "error": "Unknown field"}],
    }
    assert not Order.objects.exists()


def test_create_refuses_unknown_item_field(api, manager, home, seed_order_body):
    seed_order_body["items"][0]["line_total"] = 1
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 400
    assert r.json()["validation_errors"] == [{"field": "items[0].line_total", "error": "Unknown field"}]


def test_create_generates_order_id(api, manager, home, seed_order_body):
    del seed_order_body["order_id"]
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 201, r.content
    assert re.fullmatch(r"\d{4}-\d{4}-\d{5}", r.json()["order_id"])


def test_duplicate_order_id_is_409(api, manager, home, seed_order_body):
    assert api(manager).post("/api/v1/orders", seed_order_body, format="json").status_code == 201
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 409
    body = r.json()
    assert body["success"] is False
    assert body["error_code"] == "DUPLICATE"
    assert body["field"] == "order_id"
    assert Order.objects.count() == 1


def test_unknown_category_is_invalid_field_value(api, manager, seed_order_body):
    CategoryFactory(name="home")  # wrong case does not match
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 400
    body = r.json()
    assert body["error_code"] == "INVALID_FIELD_VALUE"
    assert body["field"] == "items[0].store_item_category"
    assert body["provided_value"] == "Home"
    assert not Order.objects.exists()


def test_agent_cannot_create_orders(api, agent, home, seed_order_body):
    seed_order_body["updated_by"] = "emp_cs_001"
    r = api(agent).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 403
    assert r.json()["error_code"] == "PERMISSION_DENIED"
    assert not Order.objects.exists()


def test_service_creates_orders_as_itself(api, service, manager, home, seed_order_body):
    seed_order_body["updated_by"] = "svc_storefront"
    r = api(service).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 201, r.content
    history = Order.objects.get().history.latest()
    assert (history.history_user, history.history_via) == (service, "")


@pytest.mark.parametrize(
    ("named", "grant", "reason"),
    [
        ("emp_mgr_001", None, "may not act for emp_mgr_001 (a manager account)"),  # agents only by default
        ("emp_mgr_001", ["agent", "manager"], "needs orders.add_order"),  # granted: still an agent's powers only
        ("emp_cs_001", None, "needs orders.add_order"),  # an agent may not create orders
    ],
)
def test_service_cannot_create_orders_on_someones_behalf(
    api, service, manager, agent, home, seed_order_body, named, grant, reason
):
    if grant:
        employee_upsert(employee_id="svc_storefront", role="service", act_for=grant)
    seed_order_body["updated_by"] = named
    r = api(service).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 403, r.content
    assert r.json()["error_code"] == "PERMISSION_DENIED"
    assert reason in r.json()["message"]
    assert not Order.objects.exists()


def test_manager_cannot_create_as_someone_else(api, manager, agent, home, seed_order_body):
    seed_order_body["updated_by"] = "emp_cs_001"
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 403
    assert not Order.objects.exists()


def test_payments_above_total_refused(api, manager, home, seed_order_body):
    seed_order_body["payments"][0]["amount"] = 44.46
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 400
    assert r.json()["error_code"] == "VALIDATION_ERROR"
    assert not Order.objects.exists()


def test_duplicate_item_names_refused(api, manager, home, seed_order_body):
    seed_order_body["items"].append(
        {**seed_order_body["items"][0], "sku": "2", "store_item_name": "luminous cushion lagoon"}
    )
    seed_order_body["payments"] = []
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 400
    assert r.json()["validation_errors"] == [
        {"field": "items[1].store_item_name", "error": "Must be unique within the order"}
    ]


def test_money_is_exact_decimal(api, manager, home, seed_order_body):
    """0.1 + 0.2 style sums stay exact: three items of 0.10 is 0.30, not 0.30000000000000004."""
    seed_order_body["items"] = [
        {"sku": str(n), "store_item_name": f"n{n}", "store_item_category": "Home", "quantity": 1, "unit_price": 0.1}
        for n in range(3)
    ]
    seed_order_body["payments"] = [{"payment_group_id": "pg1", "payment_method": "Visa", "amount": 0.3}]
    r = api(manager).post("/api/v1/orders", seed_order_body, format="json")
    assert r.status_code == 201, r.content
    assert b'"order_total":0.30' in r.content
    assert r.json()["refundable_amount"] == 0.3


# ----------------------------------------------------------------- list


def test_list_is_paginated(api, agent):
    for _ in range(3):
        order_with_items(items=1)
    r = api(agent).get("/api/v1/orders", {"page_size": 2})
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    r2 = api(agent).get("/api/v1/orders", {"page_size": 2, "page": 2})
    assert len(r2.json()["results"]) == 1


def test_page_out_of_range_is_json_404(api, agent):
    order_with_items(items=1)
    r = api(agent).get("/api/v1/orders", {"page": 99})
    assert r.status_code == 404
    assert r.json()["error_code"] == "NOT_FOUND"
    assert r.json()["success"] is False


def ids(response):
    assert response.status_code == 200, response.content
    return {o["order_id"] for o in response.json()["results"]}


def test_list_filters(api, agent):
    now = timezone.now()
    old = order_with_items(items=1, customer_email="old@example.com")
    Order.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=10))
    accepted = order_with_items(items=1, status=OrderStatus.ACCEPTED, customer_email="Mark@Example.com")
    pending = order_with_items(items=1)
    client = api(agent)

    assert ids(client.get("/api/v1/orders", {"status": "accepted"})) == {accepted.order_id}
    assert ids(client.get("/api/v1/orders", {"customer_email": "mark@example.com"})) == {accepted.order_id}
    cutoff = (now - timedelta(days=1)).isoformat()
    assert ids(client.get("/api/v1/orders", {"created_after": cutoff})) == {accepted.order_id, pending.order_id}
    assert ids(client.get("/api/v1/orders", {"created_before": cutoff})) == {old.order_id}
    assert ids(client.get("/api/v1/orders", {"search": pending.order_id[:9]})) >= {pending.order_id}
    assert ids(client.get("/api/v1/orders", {"search": pending.order_id})) == {pending.order_id}


def test_list_bad_filter_is_a_validation_error(api, agent):
    r = api(agent).get("/api/v1/orders", {"status": "lost"})
    assert r.status_code == 400
    assert r.json()["error_code"] == "VALIDATION_ERROR"
    assert r.json()["validation_errors"][0]["field"] == "status"


def test_list_shows_totals(api, agent):
    order = order_with_items(items=2)
    [row] = api(agent).get("/api/v1/orders").json()["results"]
    assert row["order_id"] == order.order_id
    assert row["order_total"] == 20.0
    assert row["refundable_amount"] == 20.0
    assert len(row["items"]) == 2


# ----------------------------------------------------------------- detail


def test_detail_has_items_payments_shipments_refunds(api, agent, django_capture_on_commit_callbacks):
    order = order_with_items(items=2)  # 20.00 captured
    ShipmentFactory(order=order, carrier="UPS", tracking_number="1Z999")
    with django_capture_on_commit_callbacks(execute=True):
        refund_record(order=order, actor=agent, amount=Decimal("5.00"), source=RefundSource.STORE_CREDIT)

    r = api(agent).get(f"/api/v1/orders/{order.order_id}")

    assert r.status_code == 200
    body = r.json()
    assert [i["line_number"] for i in body["items"]] == [1, 2]
    assert body["payments"][0]["amount"] == 20.0
    assert body["shipments"][0]["tracking_number"] == "1Z999"
    assert [(rf["amount"], rf["status"], rf["source"]) for rf in body["refunds"]] == [
        (5.0, "completed", "store_credit")
    ]
    assert b'"refunded_total":5.00' in r.content
    assert b'"refundable_amount":15.00' in r.content


def test_detail_unknown_order(api, agent):
    r = api(agent).get("/api/v1/orders/0000-0000-00000")
    assert r.status_code == 404
    assert r.json() == {
        "success": False,
        "message": "Order not found",
        "error_code": "ORDER_NOT_FOUND",
        "order_id": "0000-0000-00000",
    }


# ----------------------------------------------------------------- status


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("pending", "accepted"),
        ("accepted", "in_progress"),
        ("in_progress", "completed"),
        ("pending", "canceled"),
        ("accepted", "canceled"),
        ("in_progress", "canceled"),
    ],
)
def test_status_moves(api, manager, start, target):
    order = order_with_items(status=start)
    history_before = order.history.count()

    r = api(manager).patch(
        f"/api/v1/orders/{order.order_id}", {"status": target, "updated_by": "emp_mgr_001"}, format="json"
    )

    assert r.status_code == 200, r.content
    body = r.json()
    assert body["success"] is True
    assert (body["previous_status"], body["new_status"]) == (start, target)
    order.refresh_from_db()
    assert order.status == target
    assert order.revision == 2
    assert order.history.count() == history_before + 1
    row = order.history.latest()
    assert row.history_user == manager
    assert row.status == target
    assert row.history_change_reason


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        ("pending", "completed", ["accepted", "canceled"]),
        ("pending", "pending", ["accepted", "canceled"]),
        ("completed", "canceled", []),
        ("completed", "returned", []),
        ("completed", "partially_returned", []),
        ("canceled", "pending", []),
        ("in_progress", "accepted", ["completed", "canceled"]),
    ],
)
def test_illegal_status_move_is_409(api, manager, start, target, allowed):
    order = order_with_items(status=start)
    history_before = order.history.count()

    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": target}, format="json")

    assert r.status_code == 409
    body = r.json()
    assert body["success"] is False
    assert body["error_code"] == "INVALID_STATUS_TRANSITION"
    assert body["current_status"] == start
    assert body["requested_status"] == target
    assert sorted(body["allowed_transitions"]) == sorted(allowed)
    order.refresh_from_db()
    assert order.status == start
    assert order.history.count() == history_before


def test_unknown_status_is_validation_error(api, manager, order):
    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "shipped"}, format="json")
    assert r.status_code == 400
    assert r.json()["validation_errors"][0]["field"] == "status"


def test_status_patch_refuses_totals(api, manager, order):
    r = api(manager).patch(f"/api/v1/orders/{order.order_id}", {"status": "accepted", "order_total": 1}, format="json")
    assert r.status_code == 400
    assert r.json()["validation_errors"][0]["field"] == "order_total"
    order.refresh_from_db()
    assert order.status == "pending"


def test_agent_cannot_move_status(api, agent, order):
    r = api(agent).patch(f"/api/v1/orders/{order.order_id}", {"status": "accepted"}, format="json")
    assert r.status_code == 403
    assert r.json()["error_code"] == "PERMISSION_DENIED"


def test_status_patch_unknown_order(api, manager):
    r = api(manager).patch("/api/v1/orders/nope", {"status": "accepted"}, format="json")
    assert r.status_code == 404
    assert r.json()["error_code"] == "ORDER_NOT_FOUND"


def test_status_updated_by_other_employee_forbidden(api, manager, other_manager, order):
    r = api(manager).patch(
        f"/api/v1/orders/{order.order_id}", {"status": "accepted", "updated_by": "emp_mgr_002"}, format="json"
    )
    assert r.status_code == 403
    order.refresh_from_db()
    assert order.status == "pending"


def test_orders_have_default_account(db):
    from django.conf import settings

    assert OrderFactory().account == settings.DEFAULT_ACCOUNT_ID
