"""PATCH /api-order/orders/return (seed 002): the whole-order return through the fabric API."""

import re
from decimal import Decimal

import pytest

from orders.models import OrderStatus, Refund, RefundCause, RefundSource, RefundStatus
from orders.services import refund_record
from returns.models import OrderStatusDescription, Return, ReturnScope
from tests.factories import PaymentFactory, order_with_items
from tests.returns.conftest import ACCOUNT, OTHER_ACCOUNT, seed_order

pytestmark = pytest.mark.django_db

URL = "/api-order/orders/return"
ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SEED_BODY = {
    "returnCode": "2001",
    "orderId": "1626-4972-66351",
    "returnMessage": "Customer changed their mind",
    "sugarRefund": True,
}


def patch(client, body):
    return client.patch(URL, body, format="json")


# ----------------------------------------------------------------- the seed's request, the seed's answer


def test_seed_request_answers_in_the_seed_shape(fabric):
    order = seed_order()

    response = patch(fabric(), SEED_BODY)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"orderId", "status", "order"}
    assert body["orderId"] == "1626-4972-66351"
    assert body["status"] == "Successfully Returned order"
    o = body["order"]
    assert o["orderId"] == "1626-4972-66351"
    assert o["channel"] == 12
    assert o["orderTotal"] == 124.23
    assert isinstance(o["orderTotal"], float)
    assert o["taxTotal"] == 5.23
    assert o["orderCurrency"] == "USD"
    assert o["status"] == "ORDER_RETURNED"
    assert o["statusLog"] == "Order has been Returned"
    assert o["customerUserId"] == "5e3598e3007c5e00080d2bb8"
    assert o["customerAccountId"] == ACCOUNT
    assert o["customerPhone"] == {"number": "555-555-5555", "kind": "mobile"}
    assert o["revision"] == order.revision + 1  # one change: the status move with its refund, as in the seed
    assert o["totalQuantity"] == 10
    assert o["tags"] == ["vip"]
    assert o["events"] == [{"type": "note", "text": "Called the customer"}]
    assert o["attributes"] == [{"name": "giftWrap", "value": True}]
    assert o["__v"] == 0
    assert o["_id"] == order.object_id
    assert re.fullmatch(r"[0-9a-f]{24}", o["_id"])
    assert ISO_MS_Z.match(o["createdAt"])
    assert ISO_MS_Z.match(o["updatedAt"])

    [entry] = o["statusDescriptions"]
    assert set(entry) == {"_id", "id", "status", "code", "description", "date"}
    assert entry["_id"] == entry["id"]
    assert re.fullmatch(r"[0-9a-f]{24}", entry["id"])
    assert entry["status"] == "ORDER_RETURNED"
    assert entry["code"] == "2001"
    assert entry["description"] == "Customer is no longer interested in product"
    assert ISO_MS_Z.match(entry["date"])

    [ship_to] = o["shipTo"]
    assert ship_to["shipToId"] == 1
    assert ship_to["shipToType"] == "SHIP_TO_ADDRESS"
    assert ship_to["currency"] == "USD"
    assert ship_to["address"] == {
        "name": {"first": "Mark", "middle": "p", "last": "styler"},
        "phone": {"number": "555-555-5555", "kind": "mobile"},
        "isValidated": False,
        "email": "mark@google.com",
        "street1": "10400 NE 4th St",
        "street2": "Suite 500",
        "city": "Bellevue",
        "state": "WA",
        "country": "USA",
        "zipCode": "98004",
        "kind": "Ship to address",
    }
    assert ship_to["_id"] == ship_to["id"] == order.ship_to_object_id
    assert re.fullmatch(r"[0-9a-f]{24}", ship_to["id"])
    assert (ship_to["price"], ship_to["estimatedTax"], ship_to["committedTax"], ship_to["total"]) == (0, 0, 0, 0)
    assert ship_to["taxCode"] == "FR020000"
    assert (ship_to["shipmentCarrier"], ship_to["shipmentMethod"], ship_to["shipmentMethodId"]) == (
        "Fedex",
        "Express",
        "10000001",
    )
    assert ship_to["promisedDeliveryDate"] == "2021-02-14T00:00:00.000Z"
    assert ship_to["shipmentInstructions"] == "Leave at back door"
    assert ship_to["shipmentStatus"] == "Delivered"
    assert ship_to["promosApplied"] == [{"name": "test1"}]
    assert ship_to["readyForPickups"] == []
    assert ISO_MS_Z.match(ship_to["delivery"]["actual"])
    assert ship_to["shipping"]["actual"] == o["shipments"][0]["shippedDate"]

    [item] = o["items"]
    db_item = order.items.get()
    assert item["lineItemId"] == 1
    assert item["itemId"] == 1000000663
    assert item["sku"] == "1538910"
    assert item["title"] == "Luminous Cushion Lagoon"
    assert item["quantity"] == 10
    assert item["price"] == 12.0
    assert item["discount"] == 1.0
    assert item["estimatedTax"] == 5.23
    assert item["total"] == 124.23
    assert item["currency"] == "USD"
    assert item["shipToId"] == 1
    assert item["id"] == item["_id"] == str(db_item.order_item_id)
    assert item["group"] == ["Home", "Group1"]
    assert item["promosApplied"] == [{"name": "test"}]
    assert (item["taxCode"], item["weight"], item["weightUnit"]) == ("FR020000", 10, "lb")
    assert item["reservedLocation"] == ["WH-BELLEVUE-01"]
    assert item["attributes"] == [{"name": "color", "value": "Lagoon"}]

    [shipment] = o["shipments"]
    db_shipment = order.shipments.get()
    assert shipment["shipmentCarrier"] == "USPS"
    assert shipment["trackingNumber"] == "65765798989"
    assert shipment["shipmentStatus"] == "ORDER_DELIVERED"
    assert ISO_MS_Z.match(shipment["shippedDate"])
    assert shipment["_id"] == shipment["id"] == db_shipment.object_id
    assert shipment["shipmentCarrierUrl"] == "https://tools.usps.com/go/TrackConfirmAction?tLabels=65765798989"
    [line] = shipment["lineItems"]
    assert line["_id"] == line["id"] == db_shipment.lines.get().object_id
    assert (line["lineItemId"], line["quantity"]) == (1, 10)

    [payment] = o["payments"]
    assert payment["paymentMethod"] == "Visa"
    assert payment["amount"] == 124.23
    assert payment["currency"] == "USD"
    assert payment["paymentStatus"] == "Captured"
    assert payment["id"] == "pg_visa_1"
    assert payment["paymentIdentifier"] == {"cardIdentifier": 4242}
    assert payment["paymentToken"] == {"token": 123456789}
    assert payment["paymentKind"] == "Default payment"
    assert payment["conversion"] == 1
    assert payment["billToId"] == 1
    assert payment["billToAddress"] == {
        "name": {"first": "Marl", "middle": "p", "last": "styler"},
        "phone": {"number": "555-555-5555", "kind": "mobile"},
        "isValidated": False,
        "email": "mark@google.com",
        "street1": "10400 NE 4th St",
        "street2": "Suite 500",
        "city": "Bellevue",
        "state": "WA",
        "country": "USA",
        "zipCode": "98004",
        "kind": "Bill to address",
    }


def test_money_is_written_as_json_numbers_with_two_places(fabric):
    seed_order()
    raw = patch(fabric(), SEED_BODY).content.decode()
    assert '"orderTotal":124.23' in raw
    assert '"price":12.00' in raw


def test_return_records_every_item_moves_the_order_and_refunds(fabric, django_capture_on_commit_callbacks):
    order = order_with_items(items=3, quantity=2, status=OrderStatus.COMPLETED, account=ACCOUNT)  # 60.00 paid

    with django_capture_on_commit_callbacks(execute=True):
        response = patch(fabric(), {**SEED_BODY, "orderId": order.order_id})

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.RETURNED
    # the return (status move and refund, one change), then the worker moving the refund to processing and to
    # completed (issue 21: the ETag means the representation, and the order's shows its refunds' status)
    assert order.revision == 4
    ret = Return.objects.get(order=order)
    assert ret.scope == ReturnScope.ORDER
    assert ret.reason.code == "2001"
    assert ret.message == "Customer changed their mind"
    assert ret.refund_requested is True
    assert ret.refund_amount == Decimal("60.00")
    assert ret.created_by is None
    assert ret.created_by_label == "API key 'storefront'"
    assert sorted(ret.lines.values_list("order_item__line_number", "quantity")) == [(1, 2), (2, 2), (3, 2)]
    [refund] = Refund.objects.filter(order=order)
    assert refund.amount == Decimal("60.00")
    assert (refund.cause_type, refund.cause_id) == (RefundCause.RETURN, ret.return_id)
    assert refund.source == RefundSource.MERCHANT
    assert refund.payment == order.payments.get()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.COMPLETED  # processed by the task after commit
    # history names the key (there is no employee)
    assert "API key 'storefront'" in ret.history.last().history_change_reason
    assert ret.history.last().history_user is None
    last = order.history.get(revision=2)  # the return's own row (later ones are the worker's, settling the refund)
    assert last.history_user is None
    assert "API key 'storefront'" in last.history_change_reason


def test_without_sugar_refund_no_money_moves(fabric):
    order = seed_order()
    body = {k: v for k, v in SEED_BODY.items() if k != "sugarRefund"}
    assert patch(fabric(), body).status_code == 200
    assert not Refund.objects.filter(order=order).exists()
    assert Return.objects.get(order=order).refund_amount == Decimal("0.00")


def test_message_is_the_description_when_the_code_has_none(fabric):
    from returns.models import ReturnReason

    ReturnReason.objects.create(code="2999", description="")
    order = seed_order()
    response = patch(fabric(), {**SEED_BODY, "returnCode": "2999", "returnMessage": "Box was crushed"})
    assert response.json()["order"]["statusDescriptions"][0]["description"] == "Box was crushed"
    assert OrderStatusDescription.objects.get(order=order).code == "2999"


def test_refund_spreads_over_captured_payments(fabric):
    order = order_with_items(items=1, unit_price=Decimal("30.00"), status=OrderStatus.COMPLETED, account=ACCOUNT)
    first = order.payments.get()
    first.amount = Decimal("20.00")
    first.save()
    second = PaymentFactory(order=order, amount=Decimal("10.00"))
    PaymentFactory(order=order, amount=Decimal("99.00"), status="failed")

    assert patch(fabric(), {**SEED_BODY, "orderId": order.order_id}).status_code == 200

    refunds = {r.payment_id: r.amount for r in Refund.objects.filter(order=order)}
    assert refunds == {first.pk: Decimal("20.00"), second.pk: Decimal("10.00")}


def test_the_ledger_limit_is_shared_with_other_refunds(fabric, agent):
    order = order_with_items(items=2, status=OrderStatus.COMPLETED, account=ACCOUNT)  # 20.00 paid
    refund_record(
        order=order, actor=agent, amount=Decimal("7.50"), source=RefundSource.MERCHANT, cause_type=RefundCause.ISSUE
    )
    refund_record(order=order, actor=agent, amount=Decimal("2.50"), source=RefundSource.STORE_CREDIT)

    assert patch(fabric(), {**SEED_BODY, "orderId": order.order_id}).status_code == 200

    ret = Return.objects.get(order=order)
    assert ret.refund_amount == Decimal("10.00")
    assert sum(Refund.objects.filter(order=order).values_list("amount", flat=True)) == Decimal("20.00")


def test_fully_refunded_order_is_returned_without_a_refund(fabric, agent):
    order = order_with_items(items=1, status=OrderStatus.COMPLETED, account=ACCOUNT)
    refund_record(order=order, actor=agent, amount=Decimal("10.00"), source=RefundSource.MERCHANT)
    assert patch(fabric(), {**SEED_BODY, "orderId": order.order_id}).status_code == 200
    assert Return.objects.get(order=order).refund_amount == Decimal("0.00")
    assert Refund.objects.filter(order=order).count() == 1


# ----------------------------------------------------------------- state rules


def test_returning_twice_is_refused_and_never_refunds_twice(fabric):
    order = seed_order()
    assert patch(fabric(), SEED_BODY).status_code == 200

    response = patch(fabric(), SEED_BODY)

    assert response.status_code == 409
    assert response.json() == {
        "code": "ALREADY_RETURNED",
        "message": "The order has already been returned",
        "orderId": "1626-4972-66351",
        "currentStatus": "ORDER_RETURNED",
    }
    assert Refund.objects.filter(order=order).count() == 1
    assert Return.objects.filter(order=order).count() == 1
    order.refresh_from_db()
    assert order.revision == 2  # once: the return; the second return changed nothing
    assert OrderStatusDescription.objects.filter(order=order).count() == 1


@pytest.mark.parametrize(
    ("status", "fabric_status"),
    [
        (OrderStatus.PENDING, "ORDER_CREATED"),
        (OrderStatus.ACCEPTED, "ORDER_ACCEPTED"),
        (OrderStatus.IN_PROGRESS, "ORDER_IN_PROGRESS"),
        (OrderStatus.CANCELED, "ORDER_CANCELLED"),
        (OrderStatus.PARTIALLY_RETURNED, "ORDER_PARTIALLY_RETURNED"),
    ],
)
def test_only_a_completed_order_can_be_returned(fabric, status, fabric_status):
    order = seed_order(status=status)

    response = patch(fabric(), SEED_BODY)

    assert response.status_code == 409
    assert response.json() == {
        "code": "ORDER_NOT_RETURNABLE",
        "message": f"Only a completed order can be returned whole; this one is {status}",
        "orderId": "1626-4972-66351",
        "currentStatus": fabric_status,
    }
    order.refresh_from_db()
    assert order.status == status
    assert order.revision == 1
    assert not Return.objects.exists()
    assert not Refund.objects.exists()


def test_a_returned_order_answers_already_returned(fabric):
    seed_order(status=OrderStatus.RETURNED)
    response = patch(fabric(), SEED_BODY)
    assert response.status_code == 409
    assert response.json()["code"] == "ALREADY_RETURNED"


def test_unknown_return_code_is_refused(fabric):
    order = seed_order()

    response = patch(fabric(), {**SEED_BODY, "returnCode": "9999"})

    assert response.status_code == 400
    assert response.json() == {
        "code": "INVALID_RETURN_CODE",
        "message": "Unknown return code '9999'",
        "field": "returnCode",
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_a_cancellation_code_is_not_a_return_code(fabric):
    seed_order()
    response = patch(fabric(), {**SEED_BODY, "returnCode": "1001"})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_RETURN_CODE"


def test_an_inactive_code_is_refused(fabric):
    from returns.models import ReturnReason

    ReturnReason.objects.filter(code="2001").update(is_active=False)
    seed_order()
    assert patch(fabric(), SEED_BODY).status_code == 400


# ----------------------------------------------------------------- body rules


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"orderId": "1626-4972-66351"}, "returnCode", "This field is required."),
        ({"returnCode": "2001"}, "orderId", "This field is required."),
        ({**SEED_BODY, "returnCode": ""}, "returnCode", "This field may not be blank."),
        ({**SEED_BODY, "orderId": None}, "orderId", "This field may not be null."),
        ({**SEED_BODY, "sugarRefund": "yes"}, "sugarRefund", "Must be a boolean (true or false)"),
        ({**SEED_BODY, "sugarRefund": 1}, "sugarRefund", "Must be a boolean (true or false)"),
        ({**SEED_BODY, "refund": True}, "refund", "Unknown field"),
        (
            {**SEED_BODY, "returnMessage": "x" * 1001},
            "returnMessage",
            "Ensure this field has no more than 1000 characters.",
        ),
    ],
)
def test_body_rules(fabric, body, field, message):
    order = seed_order()

    response = patch(fabric(), body)

    assert response.status_code == 400
    assert response.json() == {
        "code": "VALIDATION_ERROR",
        "message": message,
        "field": field,
        "errors": [{"field": field, "message": message}],
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED


def test_body_must_be_an_object(fabric):
    seed_order()
    response = patch(fabric(), ["2001"])
    assert response.status_code == 400
    assert response.json() == {
        "code": "VALIDATION_ERROR",
        "message": "Invalid data. Expected a dictionary, but got list.",
        "field": "nonFieldErrors",
        "errors": [{"field": "nonFieldErrors", "message": "Invalid data. Expected a dictionary, but got list."}],
    }


def test_malformed_json_body(fabric):
    seed_order()
    response = fabric().patch(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "PARSE_ERROR"
    assert body["message"].startswith("Malformed JSON")
    assert set(body) == {"code", "message"}


def test_non_json_body_is_unsupported(fabric):
    seed_order()
    response = fabric().patch(URL, data="returnCode=2001", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json() == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "message": 'Unsupported media type "application/x-www-form-urlencoded" in request.',
    }


def test_wrong_method(fabric):
    response = fabric().post(URL, SEED_BODY, format="json")
    assert response.status_code == 405
    assert response.json() == {"code": "METHOD_NOT_ALLOWED", "message": 'Method "POST" not allowed.'}


# ----------------------------------------------------------------- account and channel scoping


def test_unknown_order_is_not_found(fabric):
    response = patch(fabric(), {**SEED_BODY, "orderId": "0000-0000-00000"})
    assert response.status_code == 404
    assert response.json() == {"code": "ORDER_NOT_FOUND", "message": "Order not found", "orderId": "0000-0000-00000"}


def test_another_accounts_order_is_not_found_and_unchanged(fabric, other_api_key):
    order = seed_order(account=OTHER_ACCOUNT)

    response = patch(fabric(), SEED_BODY)

    assert response.status_code == 404
    assert response.json()["code"] == "ORDER_NOT_FOUND"
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert not Return.objects.exists()
    assert not Refund.objects.exists()
    # its own account's key reaches it
    from tests.returns.conftest import fabric_client

    own = fabric_client(other_api_key[1], {"account": OTHER_ACCOUNT})
    assert patch(own, SEED_BODY).status_code == 200


def test_channel_in_the_context_narrows_the_orders(fabric):
    order = seed_order(channel=12)

    response = patch(fabric(context={"account": ACCOUNT, "channel": 13}), SEED_BODY)
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED

    assert patch(fabric(context={"account": ACCOUNT, "channel": "12"}), SEED_BODY).status_code == 200
