"""Seed 002's order, whole (issue 21): every key of the seed's example answer, at every level, with its JSON type.

``seed002_order.json`` is the seed's example answer to ``PATCH /api-order/orders/return``, copied unchanged. The
walk compares it with our answers key by key: every path of the seed exists in ours with the same JSON type
(``"<any>"`` entries take any value; every entry of one of our lists is checked against the seed's first entry),
and ours has no key the seed lacks.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from orders.models import Order, OrderStatus, Promotion, ShipmentLine
from returns.fabric.serializers import CardIdentifierField, NumberField, TokenField
from returns.models import OrderStatusDescription
from tests.factories import CategoryFactory, ShipmentFactory, order_with_items
from tests.returns.conftest import ACCOUNT, SEED_ANSWER, seed_order
from tests.returns.test_fabric_return import SEED_BODY, URL

pytestmark = pytest.mark.django_db

ANY = "<any>"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(type(value))


def walk(seed: Any, ours: Any, path: str = "$", *, whole: bool = True) -> tuple[list[str], set[str]]:
    """(problems, the seed's paths that were found in ours with the seed's type). ``whole``: every list the seed
    shows entries of must have entries in ours (else they could not be compared)."""
    if seed == ANY:
        return [], {path}
    if json_type(seed) != json_type(ours):
        return [f"{path}: the seed has a {json_type(seed)}, we have a {json_type(ours)} ({ours!r})"], set()
    problems: list[str] = []
    found = {path}
    if isinstance(seed, dict):
        for key in seed:
            if key not in ours:
                problems.append(f"{path}.{key}: missing")
                continue
            more, seen = walk(seed[key], ours[key], f"{path}.{key}", whole=whole)
            problems += more
            found |= seen
        problems += [f"{path}.{key}: not in the seed" for key in ours if key not in seed]
    elif isinstance(seed, list) and seed:
        if whole and not ours and seed[0] != ANY:
            problems.append(f"{path}: empty, so its entries cannot be checked against the seed's")
        for index, entry in enumerate(ours):
            more, seen = walk(seed[0], entry, f"{path}[]", whole=whole)
            problems += [p.replace(f"{path}[]", f"{path}[{index}]", 1) for p in more]
            found |= seen
    return problems, found


def seed_paths(seed: Any, path: str = "$") -> set[str]:
    paths = {path}
    if isinstance(seed, dict):
        for key, value in seed.items():
            paths |= seed_paths(value, f"{path}.{key}")
    elif isinstance(seed, list) and seed and seed[0] != ANY:
        paths |= seed_paths(seed[0], f"{path}[]")
    return paths


def assert_seed_shape(seed: Any, ours: Any, *, whole: bool = True) -> None:
    """Every path of the seed in ours with its type, and nothing else; ``whole=False`` lets lists be empty."""
    problems, found = walk(seed, ours, whole=whole)
    assert problems == [], "\n".join(problems)
    if whole:
        assert seed_paths(seed) - found == set()


# ----------------------------------------------------------------- the walk itself


def test_the_fixture_is_the_seeds_example():
    order = SEED_ANSWER["order"]
    assert SEED_ANSWER["orderId"] == order["orderId"] == "1626-4972-66351"
    assert len(seed_paths(SEED_ANSWER)) == 151  # the root, every key at every level and each list's first entry
    for key in ("_id", "__v", "tags", "events", "attributes", "customerPhone", "shipTo", "shipments", "payments"):
        assert key in order


def test_the_walk_finds_a_missing_key_a_wrong_type_and_an_extra_key():
    ours = copy.deepcopy(SEED_ANSWER)
    del ours["order"]["payments"][0]["billToAddress"]["phone"]["kind"]
    ours["order"]["shipTo"][0]["price"] = "24.87"
    ours["order"]["items"][0]["colour"] = "blue"
    ours["order"]["shipments"][0]["lineItems"] = []
    problems, _found = walk(SEED_ANSWER, ours)
    assert problems == [
        "$.order.shipTo[0].price: the seed has a number, we have a string ('24.87')",
        "$.order.items[0].colour: not in the seed",
        "$.order.shipments[0].lineItems: empty, so its entries cannot be checked against the seed's",
        "$.order.payments[0].billToAddress.phone.kind: missing",
    ]
    assert walk(SEED_ANSWER, copy.deepcopy(SEED_ANSWER))[0] == []


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        (NumberField(), Decimal("10.000"), "10"),
        (NumberField(), Decimal("1.250000"), "1.25"),
        (NumberField(), Decimal("1000.000000"), "1000"),
        (NumberField(), Decimal("0.000001"), "0.000001"),
        (CardIdentifierField(), "4242", 4242),
        (TokenField(), "123456789", 123456789),
        (TokenField(), "1" * 16, "1" * 16),  # too long for a JSON client to read exactly
        (TokenField(), "tok_9f8e", "tok_9f8e"),
    ],
)
def test_numbers_the_seed_shows_as_numbers(field, value, expected):
    result = field.to_representation(value)
    assert (str(result) if isinstance(result, Decimal) else result) == expected


# ----------------------------------------------------------------- our answers


def test_get_answers_every_key_of_the_seeds_order_with_its_type(fabric):
    order = seed_order()
    OrderStatusDescription.objects.create(order=order, status=OrderStatus.COMPLETED, code="", description="Delivered")
    response = fabric().get(f"/api-order/orders/{order.order_id}")
    assert response.status_code == 200
    assert_seed_shape(SEED_ANSWER["order"], response.json())


def test_the_seeds_return_request_answers_the_seeds_order_whole(fabric):
    seed_order()
    response = fabric().patch(URL, SEED_BODY, format="json")
    assert response.status_code == 200, response.content
    assert_seed_shape(SEED_ANSWER, response.json())


def test_what_an_order_lacks_is_never_invented(fabric):
    """An order made before issue 21 (none of seed 002's new data): empty text, empty lists, no numbers or dates it
    does not have, empty objects where the seed has an object of them; the same keys otherwise."""
    order = order_with_items(items=1, account=ACCOUNT)
    ShipmentFactory(order=order, status="pending")

    o = fabric().get(f"/api-order/orders/{order.order_id}").json()

    assert o["__v"] == 0
    assert o["_id"] == order.object_id
    assert o["customerPhone"] == {"number": order.customer_phone, "kind": ""}
    assert (o["tags"], o["events"], o["attributes"]) == ([], [], [])
    [ship_to] = o["shipTo"]
    assert ship_to["address"]["name"]["middle"] == ""
    assert ship_to["address"]["isValidated"] is False
    assert (ship_to["delivery"], ship_to["shipping"], ship_to["promosApplied"]) == ({}, {}, [])
    assert (ship_to["price"], ship_to["estimatedTax"], ship_to["committedTax"], ship_to["total"]) == (0, 0, 0, 0)
    for key in ("taxCode", "shipmentCarrier", "shipmentMethod", "shipmentMethodId", "shipmentInstructions"):
        assert ship_to[key] == "", key
    assert "promisedDeliveryDate" not in ship_to
    assert ship_to["shipmentStatus"] == "Pending"
    [item] = o["items"]
    assert "weight" not in item
    assert (item["weightUnit"], item["taxCode"], item["promosApplied"], item["reservedLocation"]) == ("", "", [], [])
    assert (item["group"], item["attributes"]) == (["Home"], [])
    [shipment] = o["shipments"]
    assert (shipment["shipmentCarrierUrl"], shipment["lineItems"]) == ("", [])
    assert "shippedDate" not in shipment
    [payment] = o["payments"]
    assert "billToAddress" not in payment
    assert "billToId" not in payment
    assert (payment["paymentIdentifier"], payment["paymentToken"], payment["paymentKind"]) == ({}, {}, "")
    assert payment["conversion"] == 1
    # the keys it has are the seed's, with the seed's types; it lacks exactly the values it has no data for
    problems, _found = walk(SEED_ANSWER["order"], o, whole=False)
    assert sorted(problems) == [
        "$.items[0].itemId: missing",
        "$.items[0].weight: missing",
        "$.payments[0].billToAddress: missing",
        "$.payments[0].billToId: missing",
        "$.payments[0].paymentIdentifier.cardIdentifier: missing",
        "$.payments[0].paymentToken.token: missing",
        "$.shipTo[0].delivery.actual: missing",
        "$.shipTo[0].promisedDeliveryDate: missing",
        "$.shipTo[0].shipping.actual: missing",
        "$.shipments[0].shippedDate: missing",
    ]


def seed_create_body() -> dict:
    """Seed 002's example order as a back-office create (``POST /api/v1/orders``, snake_case), value for value
    where the seed's numbers make one order (its payment of 533.33 exceeds its total: ours pays the total)."""
    o = SEED_ANSWER["order"]
    ship_to, item, shipment, payment = o["shipTo"][0], o["items"][0], o["shipments"][0], o["payments"][0]
    address, bill_to = ship_to["address"], payment["billToAddress"]
    return {
        "order_id": o["orderId"],
        "account": o["customerAccountId"],
        "channel": o["channel"],
        "currency": o["orderCurrency"],
        "customer": {
            "customer_id": o["customerUserId"],
            "first_name": address["name"]["first"],
            "middle_name": address["name"]["middle"],
            "last_name": address["name"]["last"],
            "email": address["email"],
            "phone": o["customerPhone"]["number"],
            "phone_kind": o["customerPhone"]["kind"],
        },
        "ship_to": {
            "street1": address["street1"],
            "street2": address["street2"],
            "city": address["city"],
            "state": address["state"],
            "zip_code": address["zipCode"],
            "country": address["country"],
            "is_validated": address["isValidated"],
            "price": ship_to["price"],
            "estimated_tax": ship_to["estimatedTax"],
            "committed_tax": ship_to["committedTax"],
            "tax_code": ship_to["taxCode"],
            "carrier": ship_to["shipmentCarrier"],
            "method": ship_to["shipmentMethod"],
            "method_id": ship_to["shipmentMethodId"],
            "promised_delivery_date": ship_to["promisedDeliveryDate"],
            "instructions": ship_to["shipmentInstructions"],
            "promotions": ship_to["promosApplied"],
        },
        "items": [
            {
                "sku": item["sku"],
                "item_id": str(item["itemId"]),
                "store_item_name": item["title"],
                "store_item_category": "Home",
                "quantity": item["quantity"],
                "unit_price": item["price"],
                "discount": item["discount"],
                "tax": item["estimatedTax"],
                "group": item["group"][0],
                "tax_code": item["taxCode"],
                "weight": item["weight"],
                "weight_unit": item["weightUnit"],
                "reserved_location": "WH-BELLEVUE-01",
                "promotions": item["promosApplied"],
                "attributes": [{"name": "color", "value": "Lagoon"}],
            }
        ],
        "payments": [
            {
                "payment_group_id": payment["_id"],
                "payment_method": payment["paymentMethod"],
                "amount": 89.12,  # 10 x 4.50 - 1.00 + 10.25 tax + 24.87 shipping + 10.00 its tax
                "status": "authorized",
                "kind": payment["paymentKind"],
                "card_last_four": str(payment["paymentIdentifier"]["cardIdentifier"]),
                "token_reference": str(payment["paymentToken"]["token"]),
                "conversion_rate": payment["conversion"],
                "bill_to": {
                    "first_name": bill_to["name"]["first"],
                    "middle_name": bill_to["name"]["middle"],
                    "last_name": bill_to["name"]["last"],
                    "email": bill_to["email"],
                    "phone": bill_to["phone"]["number"],
                    "phone_kind": bill_to["phone"]["kind"],
                    "street1": bill_to["street1"],
                    "street2": bill_to["street2"],
                    "city": bill_to["city"],
                    "state": bill_to["state"],
                    "zip_code": bill_to["zipCode"],
                    "country": bill_to["country"],
                    "is_validated": bill_to["isValidated"],
                },
            }
        ],
        "shipments": [
            {
                "carrier": shipment["shipmentCarrier"],
                "tracking_number": shipment["trackingNumber"],
                "status": "delivered",
                "shipped_date": shipment["shippedDate"],
                "delivered_date": "2021-02-18T15:02:00.000Z",
                "carrier_url": shipment["shipmentCarrierUrl"],
                "line_items": [{"line_number": 1, "quantity": shipment["lineItems"][0]["quantity"]}],
            }
        ],
        "tags": ["vip"],
        "events": [{"type": "created", "source": "storefront"}],
        "attributes": [{"name": "giftWrap", "value": True}],
        "updated_by": "emp_mgr_001",
    }


def test_an_order_created_with_the_seeds_data_is_returned_by_the_seeds_request_unchanged(
    api, manager, fabric, django_capture_on_commit_callbacks
):
    """End to end: the back office creates the seed's order, delivers it, and the seed's example return request,
    sent unchanged, answers every key of the seed's order with the seed's type and the seed's values."""
    # given: the seed's order, created and delivered through the back-office API
    CategoryFactory(name="Home")
    client = api(manager)
    created = client.post("/api/v1/orders", seed_create_body(), format="json")
    assert created.status_code == 201, created.content
    for status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        moved = client.patch(f"/api/v1/orders/{SEED_BODY['orderId']}", {"status": status}, format="json")
        assert moved.status_code == 200, moved.content
    # when: the seed's request, unchanged
    with django_capture_on_commit_callbacks(execute=True):
        response = fabric().patch(URL, SEED_BODY, format="json")
    # then: the seed's answer, whole
    assert response.status_code == 200, response.content
    body = response.json()
    assert_seed_shape(SEED_ANSWER, body)
    seed, ours = SEED_ANSWER["order"], body["order"]
    assert (body["orderId"], body["status"]) == (SEED_ANSWER["orderId"], SEED_ANSWER["status"])
    # the values the seed's data gave, where the seed's example is one order
    for key in ("channel", "orderCurrency", "status", "statusLog", "customerUserId", "customerAccountId"):
        assert ours[key] == seed[key], key
    assert ours["customerPhone"] == seed["customerPhone"]
    assert (ours["orderTotal"], ours["taxTotal"], ours["totalQuantity"]) == (89.12, 20.25, 10)
    assert ours["__v"] == 0
    [entry] = ours["statusDescriptions"]
    assert (entry["status"], entry["code"], entry["description"]) == ("ORDER_RETURNED", "2001", seed_description())
    [ship_to] = ours["shipTo"]
    for key, value in seed["shipTo"][0].items():
        if key not in {"_id", "id", "shipToId", "delivery", "shipping", "readyForPickups"}:
            assert ship_to[key] == value, key
    assert (ship_to["shipToId"], ship_to["readyForPickups"]) == (1, [])
    assert ship_to["delivery"] == {"actual": "2021-02-18T15:02:00.000Z"}
    assert ship_to["shipping"] == {"actual": seed["shipments"][0]["shippedDate"]}
    [item] = ours["items"]
    for key in ("lineItemId", "itemId", "sku", "title", "quantity", "price", "discount", "currency"):
        assert item[key] == seed["items"][0][key], key
    for key in ("estimatedTax", "taxCode", "weight", "weightUnit", "promosApplied"):
        assert item[key] == seed["items"][0][key], key
    assert item["group"] == ["Home", "Group1"]
    assert item["total"] == 54.25  # 10 x 4.50 - 1.00 + 10.25
    [shipment] = ours["shipments"]
    for key in ("shippedDate", "shipmentCarrier", "shipmentCarrierUrl", "trackingNumber"):
        assert shipment[key] == seed["shipments"][0][key], key
    assert [(line["lineItemId"], line["quantity"]) for line in shipment["lineItems"]] == [(1, 10)]
    [payment] = ours["payments"]
    for key in ("_id", "id", "paymentIdentifier", "paymentMethod", "paymentToken", "paymentKind", "conversion"):
        assert payment[key] == seed["payments"][0][key], key
    assert (payment["shipToId"], payment["billToId"], payment["amount"]) == ([1], 1, 89.12)
    assert payment["billToAddress"] == {**seed["payments"][0]["billToAddress"], "kind": "Bill to address"}
    # stable ids: generated once, the same on the next read
    again = fabric().get(f"/api-order/orders/{SEED_BODY['orderId']}").json()
    for path in (("_id",), ("shipTo", 0, "_id"), ("shipments", 0, "_id"), ("shipments", 0, "lineItems", 0, "id")):
        assert dig(again, path) == dig(ours, path)
        assert len(dig(ours, path)) == 24
    order = Order.objects.get(order_id=SEED_BODY["orderId"])
    assert order.ship_to_price == Decimal("24.87")
    assert Promotion.objects.filter(order=order).count() == 2
    assert ShipmentLine.objects.filter(shipment__order=order).get().history.count() == 1
    assert order.account == ACCOUNT


def seed_description() -> str:
    return SEED_ANSWER["order"]["statusDescriptions"][0]["description"]


def dig(value, path):
    for key in path:
        value = value[key]
    return value
