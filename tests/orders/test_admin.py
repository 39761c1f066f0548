"""The orders admin: every write goes through the services; pages cost a fixed number of queries."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, OrderItem, OrderStatus, Refund
from tests.factories import CategoryFactory, order_with_items

pytestmark = pytest.mark.django_db


def transition_post(order: Order, name: str) -> dict:
    """What the browser posts for a transition button: the button plus the inlines' management forms."""
    data = {"_fsm_transition_to": name}
    for prefix, rows in (
        ("items", order.items.count()),
        ("payments", order.payments.count()),
        ("shipments", order.shipments.count()),
        ("refunds", order.refunds.count()),
    ):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": rows,
                f"{prefix}-INITIAL_FORMS": rows,
                f"{prefix}-MIN_NUM_FORMS": 0,
                f"{prefix}-MAX_NUM_FORMS": 1000,
            }
        )
    return data


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def count_queries(client, url) -> int:
    client.get(url)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(ctx.captured_queries)


def test_order_changelist_query_count_is_independent_of_rows(manager_client):
    order_with_items(items=1)
    one = count_queries(manager_client, "/admin/orders/order/")
    for _ in range(29):
        order_with_items(items=2)
    thirty = count_queries(manager_client, "/admin/orders/order/")
    assert one == thirty


def test_order_changelist_search_by_email_and_phone(manager_client):
    wanted = order_with_items(customer_email="find.me@example.com", customer_phone="555-000-1111")
    other = order_with_items()
    for q in ("find.me@example.com", "555-000-1111", wanted.order_id):
        body = manager_client.get("/admin/orders/order/", {"q": q}).content.decode()
        assert wanted.order_id in body
        assert other.order_id not in body


def test_order_change_page_query_count_is_independent_of_items(manager_client):
    small = order_with_items(items=1)
    big = order_with_items(items=12)
    assert count_queries(manager_client, f"/admin/orders/order/{small.pk}/change/") == count_queries(
        manager_client, f"/admin/orders/order/{big.pk}/change/"
    )


def test_manager_sees_transition_buttons_agent_does_not(manager_client, agent):
    order = order_with_items(status=OrderStatus.ACCEPTED)
    body = manager_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Start fulfilment" in body
    manager_client.force_login(agent)
    body = manager_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert "Start fulfilment" not in body


def test_transition_button_goes_through_the_service_and_writes_history(manager_client, manager):
    order = order_with_items(status=OrderStatus.ACCEPTED)
    before = order.history.count()
    response = manager_client.post(f"/admin/orders/order/{order.pk}/change/", transition_post(order, "start"))
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    assert order.revision == 2
    assert order.history.count() == before + 1
    latest = order.history.latest()
    assert latest.history_user == manager
    assert latest.history_change_reason


def test_illegal_transition_from_admin_changes_nothing(manager_client):
    order = order_with_items(status=OrderStatus.COMPLETED)
    before = order.history.count()
    manager_client.post(f"/admin/orders/order/{order.pk}/change/", transition_post(order, "cancel"))
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.history.count() == before


def test_refund_form_records_through_the_ledger(agent_client, agent):
    order = order_with_items(items=1, unit_price=Decimal("40.00"))
    response = agent_client.post(
        f"/admin/orders/order/{order.pk}/refund/",
        {"amount": "15.50", "source": "merchant", "reason": "late", "form_key": "k1"},
    )
    assert response.status_code == 302
    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("15.50")
    assert refund.requested_by == agent
    assert refund.history.first().history_user == agent


def test_refund_form_refuses_more_than_refundable_and_changes_nothing(agent_client):
    order = order_with_items(items=1, unit_price=Decimal("40.00"))
    response = agent_client.post(
        f"/admin/orders/order/{order.pk}/refund/", {"amount": "40.01", "source": "merchant", "form_key": "k1"}
    )
    assert response.status_code == 200
    assert "exceeds the refundable amount" in response.content.decode()
    assert not Refund.objects.filter(order=order).exists()


def test_refund_rows_cannot_be_added_or_edited_in_admin(manager_client):
    order = order_with_items(items=1)
    assert manager_client.get("/admin/orders/refund/add/").status_code == 403
    from orders.services import refund_record

    refund = refund_record(order=order, actor=None, amount=Decimal("1.00"), source="store_credit")
    response = manager_client.post(f"/admin/orders/refund/{refund.pk}/change/", {"amount": "9.00"})
    refund.refresh_from_db()
    assert refund.amount == Decimal("1.00")
    assert response.status_code in (200, 403)


def test_item_admin_edit_goes_through_the_service(agent_client, agent):
    order = order_with_items(items=2, status=OrderStatus.ACCEPTED)
    item = order.items.order_by("line_number").first()
    data = {
        "store_item_name": "Renamed",
        "store_item_description": "",
        "category": item.category_id,
        "store_item_size": "Large",
        "special_instructions": "Fragile",
        "preparation_notes": "",
    }
    response = agent_client.post(f"/admin/orders/orderitem/{item.pk}/change/", data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.store_item_name, item.store_item_size, item.special_instructions) == ("Renamed", "Large", "Fragile")
    assert item.history.latest().history_user == agent


def test_item_admin_refused_edit_changes_nothing(agent_client):
    order = order_with_items(items=2, status=OrderStatus.ACCEPTED)
    first, second = order.items.order_by("line_number")
    before = first.history.count()
    data = {
        "store_item_name": second.store_item_name,
        "store_item_description": "",
        "category": first.category_id,
        "store_item_size": "",
        "special_instructions": "",
        "preparation_notes": "",
    }
    agent_client.post(f"/admin/orders/orderitem/{first.pk}/change/", data)
    first.refresh_from_db()
    assert first.store_item_name != second.store_item_name
    assert first.history.count() == before


def test_item_admin_refuses_html_in_special_instructions(agent_client):
    order = order_with_items(items=1, status=OrderStatus.ACCEPTED)
    item = order.items.get()
    data = {
        "store_item_name": item.store_item_name,
        "store_item_description": "",
        "category": item.category_id,
        "store_item_size": "",
        "special_instructions": "<b>fragile</b>",
        "preparation_notes": "",
    }
    agent_client.post(f"/admin/orders/orderitem/{item.pk}/change/", data)
    item.refresh_from_db()
    assert item.special_instructions == ""


def test_category_admin_creates_through_service_with_history(manager_client, manager):
    response = manager_client.post("/admin/orders/category/add/", {"name": "Frozen", "description": "Cold things"})
    assert response.status_code == 302
    from orders.models import Category

    category = Category.objects.get(name="Frozen")
    assert category.history.get().history_user == manager


def test_category_admin_refuses_duplicate(manager_client):
    CategoryFactory(name="Home")
    manager_client.post("/admin/orders/category/add/", {"name": "Home", "description": ""})
    from orders.models import Category

    assert Category.objects.filter(name="Home").count() == 1


def test_orders_cannot_be_added_or_deleted_in_admin(manager_client):
    order = order_with_items()
    assert manager_client.get("/admin/orders/order/add/").status_code == 403
    assert manager_client.get(f"/admin/orders/order/{order.pk}/delete/").status_code == 403
    assert Order.objects.filter(pk=order.pk).exists()
    assert OrderItem.objects.filter(order=order).count() == 2
