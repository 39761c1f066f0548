import pytest

from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

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
    "updated_by": "svc_storefront",
}


def test_create_and_read(api, service, agent):
    CategoryFactory(name="Home")
    r = api(service).post("/api/v1/orders", SEED_ORDER, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["order_total"] == 44.45
    assert b'"order_total":44.45' in r.content
    assert body["refundable_amount"] == 44.45
    r = api(agent).get("/api/v1/orders/1626-4972-66351")
    assert r.status_code == 200
    item_id = r.json()["items"][0]["order_item_id"]
    r = api(agent).patch(
        f"/api/v1/orders/1626-4972-66351/order-items/{item_id}",
        {"special_instructions": "Pack item carefully - fragile", "updated_by": "emp_cs_001"},
        format="json",
    )
    assert r.status_code == 200, r.content
    assert r.json()["updated_fields"] == ["special_instructions"]
