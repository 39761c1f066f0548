"""GET /api-order/orders/{orderId} and PATCH /api-order/orders/cancel."""

import pytest

from orders.models import OrderItem, OrderStatus, Shipment, ShipmentStatus
from returns.models import OrderStatusDescription
from tests.factories import (
    PaymentFactory,
    PromotionFactory,
    ShipmentFactory,
    ShipmentLineFactory,
    order_with_items,
)
from tests.returns.conftest import ACCOUNT, seed_order

pytestmark = pytest.mark.django_db

CANCEL = "/api-order/orders/cancel"


def test_get_order_in_the_fabric_shape(fabric):
    order = seed_order()
    response = fabric().get(f"/api-order/orders/{order.order_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["orderId"] == order.order_id
    assert body["status"] == "ORDER_DELIVERED"
    assert body["statusLog"] == "Order has been Delivered"
    assert body["statusDescriptions"] == []
    assert body["items"][0]["sku"] == "1538910"


@pytest.mark.parametrize("lines", [1, 30])
def test_get_order_runs_a_fixed_number_of_queries(fabric, django_assert_num_queries, lines):
    order = order_with_items(items=lines, account=ACCOUNT)
    for _ in range(3):
        PaymentFactory(order=order)
    # seed 002's lists of objects (issue 21): what each shipment carried, promotions on each item and the shipping
    shipments = [ShipmentFactory(order=order) for _ in range(2)]
    PromotionFactory(order=order, name="FREESHIP")
    for n, item in enumerate(order.items.all()):
        ShipmentLineFactory(shipment=shipments[n % 2], order_item=item)
        PromotionFactory(order=order, order_item=item)
    client = fabric()
    # key lookup, order, items+category, payments, shipments, their lines, promotions, status descriptions
    with django_assert_num_queries(8):
        response = client.get(f"/api-order/orders/{order.order_id}")
    body = response.json()
    assert len(body["items"]) == lines
    assert sum(len(s["lineItems"]) for s in body["shipments"]) == lines
    assert all(len(i["promosApplied"]) == 1 for i in body["items"])
    assert body["shipTo"][0]["promosApplied"] == [{"name": "FREESHIP"}]


def test_an_order_without_customer_data_leaves_those_fields_out(fabric):
    order = order_with_items(items=1, account=ACCOUNT, customer_phone="", customer_id="")
    from orders.models import Order

    Order.objects.filter(pk=order.pk).update(
        ship_to_street1="", ship_to_city="", ship_to_state="", ship_to_zip_code="", ship_to_country=""
    )
    OrderItem.objects.filter(order=order).update(item_id="ABC-1")
    body = fabric().get(f"/api-order/orders/{order.order_id}").json()
    assert "customerPhone" not in body
    assert "customerUserId" not in body
    assert body["shipTo"] == []
    assert body["items"][0]["itemId"] == "ABC-1"


@pytest.mark.parametrize(
    ("status", "fabric_status", "log"),
    [
        (OrderStatus.PENDING, "ORDER_CREATED", "Order has been Created"),
        (OrderStatus.ACCEPTED, "ORDER_ACCEPTED", "Order has been Accepted"),
        (OrderStatus.IN_PROGRESS, "ORDER_IN_PROGRESS", "Order is In Progress"),
        (OrderStatus.COMPLETED, "ORDER_DELIVERED", "Order has been Delivered"),
        (OrderStatus.CANCELED, "ORDER_CANCELLED", "Order has been Cancelled"),
        (OrderStatus.PARTIALLY_RETURNED, "ORDER_PARTIALLY_RETURNED", "Order has been Partially Returned"),
        (OrderStatus.RETURNED, "ORDER_RETURNED", "Order has been Returned"),
    ],
)
def test_status_mapping_table(fabric, status, fabric_status, log):
    order = order_with_items(items=1, account=ACCOUNT, status=status)
    body = fabric().get(f"/api-order/orders/{order.order_id}").json()
    assert (body["status"], body["statusLog"]) == (fabric_status, log)


def test_every_status_is_mapped():
    from returns.fabric.statuses import ORDER_STATUS_TABLE

    assert set(ORDER_STATUS_TABLE) == set(OrderStatus.values)


# ----------------------------------------------------------------- cancel


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS])
def test_cancel_before_shipping(fabric, status):
    order = order_with_items(items=2, account=ACCOUNT, status=status)

    response = fabric().patch(
        CANCEL,
        {"cancellationCode": "1001", "orderId": order.order_id, "cancellationMessage": "Changed mind"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["orderId"] == order.order_id
    assert body["status"] == "Successfully Cancelled order"
    assert body["order"]["status"] == "ORDER_CANCELLED"
    assert body["order"]["statusLog"] == "Order has been Cancelled"
    assert body["order"]["revision"] == 2
    [entry] = body["order"]["statusDescriptions"]
    assert entry["code"] == "1001"
    assert entry["description"] == "Customer changed their mind"
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert "API key 'storefront'" in order.history.first().history_change_reason


def test_cannot_cancel_once_shipped(fabric):
    order = order_with_items(items=1, account=ACCOUNT, status=OrderStatus.IN_PROGRESS)
    Shipment.objects.create(order=order, carrier="USPS", status=ShipmentStatus.SHIPPED)

    response = fabric().patch(CANCEL, {"cancellationCode": "1001", "orderId": order.order_id}, format="json")

    assert response.status_code == 409
    assert response.json() == {
        "code": "ORDER_NOT_CANCELLABLE",
        "message": "The order cannot be cancelled once it has shipped",
        "orderId": order.order_id,
        "currentStatus": "ORDER_IN_PROGRESS",
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.IN_PROGRESS
    assert not OrderStatusDescription.objects.exists()


@pytest.mark.parametrize("status", [OrderStatus.COMPLETED, OrderStatus.RETURNED, OrderStatus.PARTIALLY_RETURNED])
def test_cannot_cancel_a_delivered_order(fabric, status):
    order = order_with_items(items=1, account=ACCOUNT, status=status)
    response = fabric().patch(CANCEL, {"cancellationCode": "1001", "orderId": order.order_id}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "ORDER_NOT_CANCELLABLE"
    # the message says why: not "once it has shipped" for an order that was delivered or returned
    assert response.json()["message"] == f"The order cannot be cancelled: it is {status.replace('_', ' ')}"


def test_cancelling_twice(fabric):
    order = order_with_items(items=1, account=ACCOUNT)
    body = {"cancellationCode": "1001", "orderId": order.order_id}
    assert fabric().patch(CANCEL, body, format="json").status_code == 200
    response = fabric().patch(CANCEL, body, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "code": "ALREADY_CANCELLED",
        "message": "The order has already been cancelled",
        "orderId": order.order_id,
        "currentStatus": "ORDER_CANCELLED",
    }


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        (
            {"cancellationCode": "2001"},
            400,
            {"code": "INVALID_RETURN_CODE", "message": "Unknown cancellation code '2001'", "field": "cancellationCode"},
        ),
        (
            {"cancellationCode": None},
            400,
            {
                "code": "VALIDATION_ERROR",
                "message": "This field may not be null.",
                "field": "cancellationCode",
                "errors": [{"field": "cancellationCode", "message": "This field may not be null."}],
            },
        ),
        (
            {"returnCode": "1001"},
            400,
            {
                "code": "VALIDATION_ERROR",
                "message": "Unknown field",
                "field": "returnCode",
                "errors": [{"field": "returnCode", "message": "Unknown field"}],
            },
        ),
    ],
)
def test_cancel_body_rules(fabric, body, status, expected):
    order = order_with_items(items=1, account=ACCOUNT)
    response = fabric().patch(CANCEL, {"cancellationCode": "1001", "orderId": order.order_id, **body}, format="json")
    assert response.status_code == status
    assert response.json() == expected
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_cancel_is_scoped_to_the_account(fabric):
    order = order_with_items(items=1, account="60aaaaaaaaaaaaaaaaaaaaaa")
    response = fabric().patch(CANCEL, {"cancellationCode": "1001", "orderId": order.order_id}, format="json")
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
