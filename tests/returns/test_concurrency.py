"""The same return sent twice at the same time: one wins, the other is refused, money moves once.

PostgreSQL only (row locks); marked ``postgres`` so SQLite runs skip it with the reason.
"""

from decimal import Decimal

import pytest

from orders.models import OrderStatus, Refund
from returns.models import Return, ReturnScope
from tests.concurrency import run_concurrently
from tests.returns.conftest import ACCOUNT, fabric_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def return_codes(transactional_db):
    """A transactional test starts from a flushed database: the seeded codes may be gone."""
    from returns.models import ReturnReason

    for code, description in (
        ("2001", "Customer is no longer interested in product"),
        ("2002", "Item arrived damaged"),
    ):
        ReturnReason.objects.get_or_create(code=code, defaults={"description": description})


def run_together(n: int, fn) -> list:
    """``fn(0)`` ... ``fn(n - 1)`` at once; a call that raised fails the test with its error."""
    results = run_concurrently(*[lambda i=i: fn(i) for i in range(n)])
    raised = [r for r in results if isinstance(r, Exception)]
    assert not raised, raised
    return results


def test_concurrent_whole_returns_refund_once(transactional_db):
    from returns.models import AccountAPIKey
    from tests.factories import order_with_items

    order = order_with_items(items=2, status=OrderStatus.COMPLETED, account=ACCOUNT)
    _obj, key = AccountAPIKey.objects.create_key(name="storefront", account=ACCOUNT)
    body = {"returnCode": "2001", "orderId": order.order_id, "sugarRefund": True}

    def send(_i):
        response = fabric_client(key, {"account": ACCOUNT}).patch("/api-order/orders/return", body, format="json")
        return response.status_code, response.json().get("code")

    results = run_together(6, send)

    assert sorted(r[0] for r in results) == [200, 409, 409, 409, 409, 409]
    assert {r[1] for r in results if r[0] == 409} == {"ALREADY_RETURNED"}
    assert Return.objects.filter(order=order, scope=ReturnScope.ORDER).count() == 1
    assert sum(Refund.objects.filter(order=order).values_list("amount", flat=True)) == Decimal("20.00")
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED
    assert order.revision == 4  # the one return, then the worker settling its refund (processing, completed)


def test_concurrent_line_returns_never_pass_the_bought_quantity(transactional_db):
    from returns.services import LineRequest, ReturnActor, order_return_lines
    from tests.factories import employee, order_with_items

    agent = employee("emp_cs_001", "agent")
    order = order_with_items(items=1, quantity=3, status=OrderStatus.COMPLETED)
    item = order.items.get()

    def send(_i):
        try:
            order_return_lines(
                order_id=order.order_id,
                actor=ReturnActor.employee(agent),
                return_code="2002",
                lines=[LineRequest(str(item.order_item_id), 1)],
                refund=True,
            )
        except Exception as exc:  # noqa: BLE001 - the refusal is the expected outcome for the losers
            return type(exc).__name__
        return "ok"

    results = run_together(6, send)

    assert results.count("ok") == 3
    assert sum(r.quantity for r in item.return_lines.all()) == 3
    assert sum(Refund.objects.filter(order=order).values_list("amount", flat=True)) == Decimal("30.00")
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED
