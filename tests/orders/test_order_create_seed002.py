"""POST /api/v1/orders with seed 002's order data (issue 21): ship-to pricing and choices, item data, promotions,
billing addresses, cards and tokens, shipment lines, tags, events and attributes. All optional, all validated."""

import copy
from decimal import Decimal

import pytest

from orders.models import Order, Promotion, ShipmentLine

pytestmark = pytest.mark.django_db

URL = "/api/v1/orders"


@pytest.fixture
def body(seed_order_body):
    """Issue 2's create body with every field seed 002 adds."""
    data = copy.deepcopy(seed_order_body)
    data["customer"].update(middle_name="p", phone_kind="mobile")
    data["ship_to"].update(
        street2="Suite 500",
        is_validated=True,
        price=24.87,
        estimated_tax=2.49,
        committed_tax=2.49,
        tax_code="FR020000",
        carrier="Fedex",
        method="Express",
        method_id="10000001",
        promised_delivery_date="2021-02-14T00:00:00Z",
        instructions="Leave at back door",
        promotions=[{"name": "FREESHIP"}],
    )
    data["items"][0].update(
        item_id="1000000663",
        group="Group1",
        tax_code="FR020000",
        weight=10,
        weight_unit="lb",
        reserved_location="WH-BELLEVUE-01",
        promotions=[{"name": "test"}, {"name": "SPRING10"}],
        attributes=[{"name": "color", "value": "Lagoon"}, "giftable"],
    )
    # 44.45 for the item, 24.87 shipping and 2.49 its tax
    data["payments"][0].update(
        amount=71.81,
        kind="Default payment",
        card_last_four="4242",
        token_reference="123456789",
        conversion_rate=1.25,
        bill_to={
            "first_name": "Marl",
            "middle_name": "p",
            "last_name": "styler",
            "email": "mark@google.com",
            "phone": "555-555-5555",
            "phone_kind": "work",
            "street1": "10400 NE 4th St",
            "city": "Bellevue",
            "state": "WA",
            "zip_code": "98004",
            "country": "USA",
            "is_validated": True,
        },
    )
    data["shipments"] = [
        {
            "carrier": "USPS",
            "tracking_number": "65765798989",
            "status": "delivered",
            "shipped_date": "2021-02-16T18:59:11Z",
            "delivered_date": "2021-02-18T10:00:00Z",
            "carrier_url": "https://tools.usps.com/go/TrackConfirmAction?tLabels=65765798989",
            "line_items": [{"line_number": 1, "quantity": 6}],
        },
        {"carrier": "USPS", "status": "shipped", "line_items": [{"line_number": 1, "quantity": 4}]},
    ]
    data["tags"] = ["vip", "gift"]
    data["events"] = [{"type": "created", "source": "storefront", "at": "2021-02-14T09:00:00Z"}]
    data["attributes"] = [{"name": "giftWrap", "value": True}]
    return data


def test_create_with_seed_002s_data(api, manager, home, body):
    # when
    r = api(manager).post(URL, body, format="json")
    # then: stored, totals include the shipping and its tax
    assert r.status_code == 201, r.content
    out = r.json()
    assert (out["subtotal"], out["tax_total"], out["order_total"]) == (44.0, 2.94, 71.81)
    assert out["refundable_amount"] == 71.81
    assert out["customer"]["middle_name"] == "p"
    assert out["customer"]["phone_kind"] == "mobile"
    assert out["ship_to"] == {
        "street1": "10400 NE 4th St",
        "street2": "Suite 500",
        "city": "Bellevue",
        "state": "WA",
        "zip_code": "98004",
        "country": "USA",
        "is_validated": True,
        "price": 24.87,
        "estimated_tax": 2.49,
        "committed_tax": 2.49,
        "tax_code": "FR020000",
        "carrier": "Fedex",
        "method": "Express",
        "method_id": "10000001",
        "promised_delivery_date": "2021-02-14T00:00:00Z",
        "instructions": "Leave at back door",
    }
    [item] = out["items"]
    assert (item["group"], item["tax_code"], item["weight"], item["weight_unit"]) == ("Group1", "FR020000", 10, "lb")
    assert item["reserved_location"] == "WH-BELLEVUE-01"
    assert item["attributes"] == [{"name": "color", "value": "Lagoon"}, "giftable"]
    [payment] = out["payments"]
    assert (payment["kind"], payment["card_last_four"], payment["token_reference"]) == (
        "Default payment",
        "4242",
        "123456789",
    )
    assert payment["conversion_rate"] == 1.25
    assert payment["bill_to"]["first_name"] == "Marl"
    assert payment["bill_to"]["street2"] == ""
    assert payment["bill_to"]["is_validated"] is True
    first, second = out["shipments"]
    assert first["carrier_url"].startswith("https://tools.usps.com/")
    assert first["delivered_date"] == "2021-02-18T10:00:00Z"
    assert second["carrier_url"] == ""
    assert second["delivered_date"] is None
    assert (out["tags"], out["events"], out["attributes"]) == (body["tags"], body["events"], body["attributes"])
    assert len(out["object_id"]) == 24
    assert b'"price":24.87' in r.content

    order = Order.objects.get(order_id=out["order_id"])
    assert order.ship_to_price == Decimal("24.87")
    assert order.ship_to_promised_delivery_date.isoformat() == "2021-02-14T00:00:00+00:00"
    item_row = order.items.get()
    assert item_row.weight == Decimal("10.000")
    assert list(Promotion.objects.filter(order=order).order_by("id").values_list("order_item", "name")) == [
        (None, "FREESHIP"),
        (item_row.pk, "test"),
        (item_row.pk, "SPRING10"),
    ]
    lines = ShipmentLine.objects.filter(shipment__order=order).order_by("shipment_id")
    assert [(line.order_item_id, line.quantity) for line in lines] == [(item_row.pk, 6), (item_row.pk, 4)]
    # every new row has its history row, by the creating employee, with the reason
    for row in [*Promotion.objects.filter(order=order), *lines]:
        [history] = row.history.all()
        assert (history.history_type, history.history_user, history.history_change_reason) == (
            "+",
            manager,
            "Order created",
        )
    assert order.history.get().ship_to_object_id == order.ship_to_object_id


def test_the_fabric_api_shows_what_was_created(api, manager, home, body):
    from returns.models import AccountAPIKey
    from tests.returns.conftest import fabric_client

    _key, raw = AccountAPIKey.objects.create_key(name="storefront", account=body["account"])
    assert api(manager).post(URL, body, format="json").status_code == 201

    o = fabric_client(raw, {"account": body["account"]}).get(f"/api-order/orders/{body['order_id']}").json()

    [ship_to] = o["shipTo"]
    assert (ship_to["price"], ship_to["estimatedTax"], ship_to["total"]) == (24.87, 2.49, 27.36)
    assert ship_to["address"]["isValidated"] is True
    assert ship_to["promosApplied"] == [{"name": "FREESHIP"}]
    assert ship_to["shipmentStatus"] == "Shipped"  # the second shipment is not delivered yet
    assert ship_to["delivery"] == {}
    assert ship_to["shipping"] == {"actual": "2021-02-16T18:59:11.000Z"}
    [item] = o["items"]
    assert item["promosApplied"] == [{"name": "test"}, {"name": "SPRING10"}]
    assert [line["quantity"] for s in o["shipments"] for line in s["lineItems"]] == [6, 4]
    [payment] = o["payments"]
    assert payment["conversion"] == 1.25
    assert payment["billToAddress"]["phone"] == {"number": "555-555-5555", "kind": "work"}
    assert o["customerPhone"] == {"number": "555-555-5555", "kind": "mobile"}


def test_every_new_field_is_optional(api, manager, home, seed_order_body):
    r = api(manager).post(URL, seed_order_body, format="json")
    assert r.status_code == 201, r.content
    order = Order.objects.get(order_id=seed_order_body["order_id"])
    assert (order.ship_to_price, order.order_total) == (Decimal("0.00"), Decimal("44.45"))
    assert (order.tags, order.events, order.attributes) == ([], [], [])
    assert order.payments.get().conversion_rate == Decimal("1")
    assert not Promotion.objects.exists()


def _error(r) -> list[dict]:
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["error_code"] == "VALIDATION_ERROR"
    return body["validation_errors"]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("ship_to", "instructions"), "<b>Leave</b> at the door", "ship_to.instructions"),
        (("ship_to", "carrier"), "Fedex &amp; co", "ship_to.carrier"),
        (("ship_to", "price"), -1, "ship_to.price"),
        (("ship_to", "price"), 1.005, "ship_to.price"),
        (("ship_to", "estimated_tax"), -0.01, "ship_to.estimated_tax"),
        (("ship_to", "tax_code"), "FR 02", "ship_to.tax_code"),
        (("ship_to", "promised_delivery_date"), "next week", "ship_to.promised_delivery_date"),
        (("ship_to", "promotions"), [{"name": "X"}] * 101, "ship_to.promotions"),
        (("ship_to", "promotions"), [{"name": "<script>x</script>"}], "ship_to.promotions[0].name"),
        (("customer", "phone_kind"), "pager", "customer.phone_kind"),
        (("items", 0, "weight"), -1, "items[0].weight"),
        (("items", 0, "weight_unit"), "stone", "items[0].weight_unit"),
        (("items", 0, "group"), "x" * 101, "items[0].group"),
        (("items", 0, "promotions"), [{"name": "A", "amount": 1}], "items[0].promotions[0].amount"),
        (("items", 0, "attributes"), [{"note": "<i>hi</i>"}], "items[0].attributes[0]"),
        (("items", 0, "attributes"), ["a"] * 101, "items[0].attributes"),
        (("payments", 0, "card_last_four"), "42a2", "payments[0].card_last_four"),
        (("payments", 0, "card_last_four"), "4242424242424242", "payments[0].card_last_four"),
        (("payments", 0, "token_reference"), "tok 1", "payments[0].token_reference"),
        (("payments", 0, "conversion_rate"), 0, "payments[0].conversion_rate"),
        (("payments", 0, "kind"), "<img src=x>", "payments[0].kind"),
        (("payments", 0, "bill_to", "phone_kind"), "fax", "payments[0].bill_to.phone_kind"),
        (("payments", 0, "bill_to", "card"), "4242", "payments[0].bill_to.card"),
        (("shipments", 0, "carrier_url"), "javascript:alert(1)", "shipments[0].carrier_url"),
        (("shipments", 0, "line_items", 0, "quantity"), 0, "shipments[0].line_items[0].quantity"),
        (("shipments", 0, "line_items", 0, "line_number"), 0, "shipments[0].line_items[0].line_number"),
        (("tags",), ["vip"] * 101, "tags"),
        (("tags",), ["<b>vip</b>"], "tags[0]"),
        (("events",), [{"type": {"nested": {"too": {"deep": {"x": 1}}}}}], "events[0]"),
    ],
)
def test_new_fields_are_validated(api, manager, home, body, path, value, field):
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value

    errors = _error(api(manager).post(URL, body, format="json"))

    assert [e["field"] for e in errors] == [field], errors
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda b: b["items"][0].pop("weight_unit"),
            {"field": "items[0].weight_unit", "error": "A weight needs its unit, a unit its weight"},
        ),
        (
            lambda b: b["items"][0].pop("weight"),
            {"field": "items[0].weight_unit", "error": "A weight needs its unit, a unit its weight"},
        ),
        (
            lambda b: b["shipments"][0]["line_items"].append({"line_number": 2, "quantity": 1}),
            {"field": "shipments[0].line_items[1].line_number", "error": "The order has lines 1 to 1"},
        ),
        (
            lambda b: b["shipments"][0]["line_items"].append({"line_number": 1, "quantity": 1}),
            {"field": "shipments[0].line_items[1].line_number", "error": "A line appears once per shipment"},
        ),
        (
            lambda b: b["shipments"][1]["line_items"][0].update(quantity=5),
            {"field": "shipments", "error": "Line 1: 11 shipped, 10 ordered"},
        ),
        (
            lambda b: b["shipments"][0].update(delivered_date="2021-02-15T00:00:00Z"),
            {"field": "shipments[0].delivered_date", "error": "Cannot be before shipped_date"},
        ),
        (
            lambda b: b["payments"][0].update(amount=71.82),
            {"field": "payments", "error": "Payments (71.82) exceed the order total (71.81)"},
        ),
    ],
)
def test_rules_across_fields(api, manager, home, body, change, expected):
    change(body)
    assert _error(api(manager).post(URL, body, format="json")) == [expected]
    assert not Order.objects.exists()
