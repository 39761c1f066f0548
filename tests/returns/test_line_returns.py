"""Line-level returns: POST/GET /api/v1/orders/{order_id}/returns and returns.services.order_return_lines."""

from decimal import Decimal

import pytest

from orders.models import OrderStatus, Refund, RefundCause, RefundSource
from orders.services import refund_record
from returns.models import Return, ReturnLine, ReturnScope
from tests.factories import OrderItemFactory, order_with_items

pytestmark = pytest.mark.django_db

D = Decimal


def url(order):
    return f"/api/v1/orders/{order.order_id}/returns"


def line(item, quantity):
    return {"order_item_id": str(item.order_item_id), "quantity": quantity}


@pytest.fixture
def order(db):
    """Completed: 2 lines x 3 units x 10.00 = 60.00 paid."""
    return order_with_items(items=2, quantity=3, status=OrderStatus.COMPLETED)


def items(order):
    return list(order.items.order_by("line_number"))


def post(client, order, lines, **extra):
    body = {"items": lines, "return_code": "2002", "message": "Box crushed", **extra}
    return client.post(url(order), body, format="json")


# ----------------------------------------------------------------- happy paths


def test_partial_then_full_return(api, agent, order, django_capture_on_commit_callbacks):
    a, b = items(order)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(api(agent), order, [line(a, 1)], refund=True, restock=True, updated_by="emp_cs_001")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Return recorded"
    assert body["order_status"] == "partially_returned"
    assert body["revision"] == 2  # one change of the order: the status move with its refund
    ret = body["return"]
    assert ret["scope"] == "lines"
    assert ret["return_code"] == "2002"
    assert ret["return_description"] == "Item arrived damaged"
    assert ret["refund_requested"] is True
    assert ret["restock"] is True
    assert ret["refund_amount"] == 10.0
    assert ret["created_by"] == "emp_cs_001"
    assert ret["created_via"] == "backoffice_api"
    assert ret["lines"] == [
        {
            "order_item_id": str(a.order_item_id),
            "line_number": 1,
            "sku": a.sku,
            "store_item_name": a.store_item_name,
            "quantity": 1,
            "amount": 10.0,
        }
    ]
    [refund] = ret["refunds"]
    assert refund["amount"] == 10.0
    assert refund["status"] == "pending"  # processed by the task after commit
    assert Refund.objects.get(refund_id=refund["refund_id"]).status == "completed"
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_RETURNED

    # the rest of both lines: nothing is left, the order is returned
    response = post(api(agent), order, [line(a, 2), line(b, 3)], refund=True)
    assert response.status_code == 201, response.json()
    assert response.json()["order_status"] == "returned"
    assert response.json()["return"]["refund_amount"] == 50.0
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED
    # each return (its status move with its refund), and the first refund's processing and completion (run above)
    assert order.revision == 5
    assert sum(Refund.objects.filter(order=order).values_list("amount", flat=True)) == D("60.00")
    history = order.history.first()
    assert history.history_user == agent
    assert Return.objects.first().history.last().history_user == agent
    assert "emp_cs_001" in history.history_change_reason


def test_quantities_cannot_pass_what_is_left(api, agent, order):
    a, b = items(order)
    assert post(api(agent), order, [line(a, 2)]).status_code == 201

    response = post(api(agent), order, [line(a, 2), line(b, 4)])

    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": "Field validation failed",
        "error_code": "VALIDATION_ERROR",
        "validation_errors": [
            {"field": "items[0].quantity", "error": "Cannot exceed the 1 still returnable (bought 3)"},
            {"field": "items[1].quantity", "error": "Cannot exceed the 3 still returnable (bought 3)"},
        ],
    }
    assert Return.objects.count() == 1


def test_refund_shares_add_up_to_exactly_what_was_paid(api, agent):
    """Three units for 10.00: 3.33 + 3.33 + 3.34, no lost or extra pennies."""
    order = order_with_items(items=1, quantity=3, unit_price=D("3.333333"), status=OrderStatus.COMPLETED)
    [a] = items(order)
    paid = order.payments.get().amount
    amounts = []
    for _ in range(3):
        response = post(api(agent), order, [line(a, 1)], refund=True)
        assert response.status_code == 201, response.json()
        amounts.append(D(str(response.json()["return"]["refund_amount"])))
    assert sum(amounts) == paid
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED


def test_share_of_what_was_paid_when_payment_differs_from_the_items(api, agent, order):
    """A 60.00 order paid 48.00 (a promotion): half the items refund 24.00."""
    payment = order.payments.get()
    payment.amount = D("48.00")
    payment.save()
    a, _b = items(order)
    response = post(api(agent), order, [line(a, 3)], refund=True)
    assert response.json()["return"]["refund_amount"] == 24.0


def test_the_ledger_limit_is_shared_with_other_refunds(api, agent, order):
    refund_record(
        order=order, actor=agent, amount=D("55.00"), source=RefundSource.MERCHANT, cause_type=RefundCause.ISSUE
    )
    a, _b = items(order)

    response = post(api(agent), order, [line(a, 3)], refund=True)

    assert response.status_code == 201
    assert response.json()["return"]["refund_amount"] == 5.0  # 30.00 share, capped by the 5.00 left
    assert sum(Refund.objects.filter(order=order).values_list("amount", flat=True)) == D("60.00")


def test_without_refund_no_money_moves(api, agent, order):
    a, _b = items(order)
    response = post(api(agent), order, [line(a, 1)])
    assert response.json()["return"]["refund_amount"] == 0.0
    assert response.json()["return"]["refunds"] == []
    assert not Refund.objects.exists()


def test_list_returns(api, agent, order, django_assert_num_queries):
    a, b = items(order)
    post(api(agent), order, [line(a, 1)], refund=True)
    post(api(agent), order, [line(b, 2)])
    client = api(agent)

    # token user, permissions (2), order, returns, lines, refunds
    with django_assert_num_queries(6):
        response = client.get(url(order))

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["order_id"] == order.order_id
    assert body["order_status"] == "partially_returned"
    assert body["count"] == 2
    assert [r["lines"][0]["quantity"] for r in body["results"]] == [2, 1]


def test_list_query_count_does_not_grow(api, agent, django_assert_max_num_queries):
    order = order_with_items(items=30, status=OrderStatus.COMPLETED)
    for item in items(order):
        post(api(agent), order, [line(item, 1)], refund=True)
    client = api(agent)
    with django_assert_max_num_queries(7):
        response = client.get(url(order))
    assert response.json()["count"] == 30


# ----------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "status", [OrderStatus.PENDING, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.CANCELED]
)
def test_only_completed_orders_take_returns(api, agent, status):
    order = order_with_items(items=1, status=status)
    [a] = items(order)
    response = post(api(agent), order, [line(a, 1)])
    assert response.status_code == 409
    assert response.json() == {
        "success": False,
        "message": f"Items can be returned only from a completed order; this one is {status}",
        "error_code": "ORDER_NOT_RETURNABLE",
        "order_id": order.order_id,
        "current_status": status,
    }


def test_a_returned_order_takes_no_more_returns(api, agent):
    order = order_with_items(items=1, status=OrderStatus.RETURNED)
    [a] = items(order)
    response = post(api(agent), order, [line(a, 1)])
    assert response.status_code == 409
    assert response.json()["error_code"] == "ALREADY_RETURNED"


def test_unknown_order(api, agent):
    response = api(agent).post("/api/v1/orders/0000-0000-00000/returns", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "message": "Order not found",
        "error_code": "ORDER_NOT_FOUND",
        "order_id": "0000-0000-00000",
    }


def test_item_of_another_order(api, agent, order):
    other = OrderItemFactory()
    response = post(api(agent), order, [line(other, 1)])
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "message": "Order item not found",
        "error_code": "ITEM_NOT_FOUND",
        "order_item_id": str(other.order_item_id),
        "field": "items[0].order_item_id",
    }


def test_unknown_return_code(api, agent, order):
    a, _b = items(order)
    response = post(api(agent), order, [line(a, 1)], return_code="nope")
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": "Unknown return code 'nope'",
        "error_code": "INVALID_RETURN_CODE",
        "field": "return_code",
        "provided_value": "nope",
    }


def test_same_item_twice(api, agent, order):
    a, _b = items(order)
    response = post(api(agent), order, [line(a, 1), line(a, 1)])
    assert response.status_code == 400
    assert response.json()["validation_errors"] == [
        {"field": "items[1].order_item_id", "error": "Listed more than once"}
    ]


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"items": []}, [{"field": "items", "error": "This list may not be empty."}]),
        (
            {"items": [{"order_item_id": "x", "quantity": 1}]},
            [{"field": "items[0].order_item_id", "error": "Must be a valid UUID."}],
        ),
        ({"items": "x"}, [{"field": "items", "error": "Must be a list"}]),
        ({"return_code": None}, [{"field": "return_code", "error": "This field may not be null."}]),
        ({"refund": "maybe"}, [{"field": "refund", "error": "Must be a boolean (true or false)"}]),
        ({"colour": "red"}, [{"field": "colour", "error": "Unknown field"}]),
    ],
)
def test_body_rules(api, agent, order, change, errors):
    a, _b = items(order)
    body = {"items": [line(a, 1)], "return_code": "2002", **change}
    response = api(agent).post(url(order), body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "message": "Field validation failed",
        "error_code": "VALIDATION_ERROR",
        "validation_errors": errors,
    }


def test_zero_quantity(api, agent, order):
    a, _b = items(order)
    response = post(api(agent), order, [line(a, 0)])
    assert response.json()["validation_errors"] == [
        {"field": "items[0].quantity", "error": "Ensure this value is greater than or equal to 1."}
    ]


def test_updated_by_must_be_the_caller(api, agent, other_agent, order):
    a, _b = items(order)
    response = post(api(agent), order, [line(a, 1)], updated_by="emp_cs_002")
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert not Return.objects.exists()


def test_a_service_account_acts_for_an_employee(api, service, agent, order):
    a, _b = items(order)
    response = post(api(service), order, [line(a, 1)], updated_by="emp_cs_001")
    assert response.status_code == 201
    assert Return.objects.get().created_by == agent


def test_anonymous_and_unpermitted(api, order, db):
    from tests.factories import employee

    assert api(None).get(url(order)).status_code == 401
    nobody = employee("emp_x_001", "agent")
    nobody.groups.clear()
    response = api(nobody).get(url(order))
    assert response.status_code == 403
    assert response.json() == {
        "success": False,
        "message": "This action needs the permission returns.view_return",
        "error_code": "PERMISSION_DENIED",
    }


def test_a_failed_return_changes_nothing(api, agent, order):
    a, b = items(order)
    post(api(agent), order, [line(a, 1), line(b, 9)], refund=True)
    assert not Return.objects.exists()
    assert not ReturnLine.objects.exists()
    assert not Refund.objects.exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_whole_and_line_returns_do_not_double_count(api, agent, fabric):
    """Lines returned first leave the order partially returned, which the whole-order return refuses."""
    from tests.returns.conftest import ACCOUNT

    order = order_with_items(items=2, status=OrderStatus.COMPLETED, account=ACCOUNT)
    a, _b = items(order)
    post(api(agent), order, [line(a, 1)], refund=True)
    response = fabric().patch(
        "/api-order/orders/return",
        {"returnCode": "2001", "orderId": order.order_id, "sugarRefund": True},
        format="json",
    )
    assert response.status_code == 409
    assert Return.objects.filter(order=order, scope=ReturnScope.ORDER).count() == 0
    assert sum(Refund.objects.filter(order=order).values_list("amount", flat=True)) == D("10.00")


def test_a_return_without_a_waiting_refund_shows_no_approval_request(api, agent, order):
    """``refund_approval_request_id`` is null (the schema's nullable), not an empty string, when nothing waits."""
    a, _b = items(order)
    response = post(api(agent), order, [line(a, 1)], refund=True)
    assert response.status_code == 201, response.json()
    assert response.json()["return"]["refund_approval_request_id"] is None
