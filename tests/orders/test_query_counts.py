"""Queries are bounded: pinned counts that do not grow with the rows shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ShipmentFactory, order_with_items
from tests.orders.conftest import item_url

pytestmark = pytest.mark.django_db

# Each starts with 2 for token auth and the permission check (user and group permissions in one query).
# list: count, orders (totals are subqueries), items+category, payments, shipments.
# detail: order, items+category, payments, shipments, refunds.
# item PATCH: order+item lookup, then in a savepoint: locked order, locked item, category, sibling names,
# update, history row; the webhook outbox: item with order and category, order lock (keeps the order's events
# in commit order), outbox row.
LIST_QUERIES = 7
DETAIL_QUERIES = 7
# and the order's revision (its ETag) moves with its item: order update, order history row (issue 21)
ITEM_PATCH_QUERIES = 17


def make_orders(n):
    for _ in range(n):
        order = order_with_items(items=3)
        ShipmentFactory(order=order)


def count_queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        response = fn()
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("n", [1, 30])
def test_order_list(api, agent, n, django_assert_num_queries):
    make_orders(n)
    client = api(agent)
    with django_assert_num_queries(LIST_QUERIES):
        r = client.get("/api/v1/orders", {"page_size": 50})
    assert len(r.json()["results"]) == n


def test_order_list_does_not_grow(api, agent):
    make_orders(1)
    client = api(agent)
    one = count_queries(lambda: client.get("/api/v1/orders"))
    make_orders(29)
    assert count_queries(lambda: client.get("/api/v1/orders")) == one


@pytest.mark.parametrize("items", [1, 30])
def test_order_detail(api, agent, items, django_assert_num_queries, django_capture_on_commit_callbacks):
    from decimal import Decimal

    from orders.services import refund_record

    order = order_with_items(items=items)
    ShipmentFactory(order=order)
    with django_capture_on_commit_callbacks(execute=True):
        refund_record(order=order, actor=agent, amount=Decimal("1.00"), source="store_credit")
    client = api(agent)
    with django_assert_num_queries(DETAIL_QUERIES):
        r = client.get(f"/api/v1/orders/{order.order_id}")
    assert r.status_code == 200
    assert len(r.json()["items"]) == items


@pytest.mark.parametrize("items", [2, 30])
def test_item_patch(api, agent, items, django_assert_num_queries, fulfillment_calls):
    order = order_with_items(items=items)
    item = order.items.first()
    client = api(agent)
    with django_assert_num_queries(ITEM_PATCH_QUERIES):
        r = client.patch(
            item_url(order, item),
            {"store_item_name": "Renamed", "store_item_category": "Home", "special_instructions": "Fragile"},
            format="json",
        )
    assert r.status_code == 200, r.content
