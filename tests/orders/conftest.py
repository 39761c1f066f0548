"""Fixtures shared by the order tests: the seed order body, a modifiable order, a task recorder."""

import copy
import re

import pytest

from tests.factories import CategoryFactory, order_with_items

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")

SEED_ORDER = {
    "order_id": "1626-4972-66351",
    "account": "5e3598e3007c5e00080d2bb8",
    "channel": 12,
    "currency": "USD",
    "customer": {
        "customer_id": "5e3598e3007c5e00080d2bb8",
        "first_name": "Mark",
        "last_name": "Styler",
        "email": "mark@example.com",
        "phone": "555-555-5555",
    },
    "ship_to": {"street1": "10400 NE 4th St", "city": "Bellevue", "state": "WA", "zip_code": "98004", "country": "USA"},
    "items": [
        {
            "sku": "1538910",
            "store_item_name": "Luminous Cushion Lagoon",
            "store_item_category": "Home",
            "store_item_size": "1 count",
            "quantity": 10,
            "unit_price": 4.50,
            "discount": 1.00,
            "tax": 0.45,
        }
    ],
    "payments": [{"payment_group_id": "pg1001", "payment_method": "Visa", "amount": 44.45}],
    "updated_by": "emp_mgr_001",
}


@pytest.fixture
def seed_order_body():
    """Issue 2's create body (a fresh copy per test); ``updated_by`` is the manager fixture."""
    return copy.deepcopy(SEED_ORDER)


@pytest.fixture
def home(db):
    return CategoryFactory(name="Home")


@pytest.fixture
def order(db):
    """A pending paid order with two items ("Item N", category Home), 20.00 captured."""
    return order_with_items(items=2)


@pytest.fixture
def item(order):
    return order.items.order_by("line_number").first()


class TaskRecorder:
    """Stands in for a django_tasks Task: records ``enqueue`` calls instead of running them."""

    backend = "default"

    def __init__(self):
        self.calls = []

    def enqueue(self, *args, **kwargs):
        self.calls.append((args, kwargs))


@pytest.fixture
def fulfillment_calls(monkeypatch):
    """Replaces ``orders.services.notify_fulfillment``; returns the list of enqueue calls."""
    recorder = TaskRecorder()
    monkeypatch.setattr("orders.services.notify_fulfillment", recorder)
    return recorder.calls


def item_url(order, item_or_id) -> str:
    item_id = getattr(item_or_id, "order_item_id", item_or_id)
    return f"/api/v1/orders/{order.order_id}/order-items/{item_id}"


def snapshot(item) -> dict:
    """Every column of an item plus its history count, from the database."""
    item.refresh_from_db()
    values = {f.attname: getattr(item, f.attname) for f in item._meta.concrete_fields}
    values["history_rows"] = item.history.count()
    return values
