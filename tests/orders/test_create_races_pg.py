"""Two clients creating the same order_id or category name at once: one wins, the others get 409 DUPLICATE.

PostgreSQL only (real concurrency); skipped with the reason on SQLite.
"""

import copy
from decimal import Decimal

import pytest

from config.errors import Duplicate
from orders.models import Category, Order
from orders.services import category_create, order_create
from tests.concurrency import outcomes, run_concurrently
from tests.factories import CategoryFactory, employee
from tests.orders.conftest import SEED_ORDER

THREADS = 20


def race(fn):
    """``(wins, duplicates, crashes)`` of ``THREADS`` calls of ``fn`` at once."""
    return outcomes(run_concurrently(*[fn] * THREADS), Duplicate)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_creates_of_one_order_id():
    manager = employee("emp_mgr_001", "manager")
    CategoryFactory(name="Home")
    data = copy.deepcopy(SEED_ORDER)
    for item in data["items"]:
        item["unit_price"] = Decimal("4.50")
        item["discount"] = Decimal("1.00")
        item["tax"] = Decimal("0.45")
    data["payments"][0]["amount"] = Decimal("44.45")

    wins, duplicates, crashes = race(lambda: order_create(actor=manager, data=copy.deepcopy(data)))

    assert crashes == []
    assert len(wins) == 1
    assert len(duplicates) == THREADS - 1
    assert all(d.status == 409 and d.extra["field"] == "order_id" for d in duplicates)
    assert Order.objects.filter(order_id="1626-4972-66351").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_creates_of_one_category():
    manager = employee("emp_mgr_001", "manager")

    wins, duplicates, crashes = race(lambda: category_create(actor=manager, name="Snacks"))

    assert crashes == []
    assert len(wins) == 1
    assert len(duplicates) == THREADS - 1
    assert Category.objects.filter(name="Snacks").count() == 1
