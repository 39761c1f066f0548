"""Fixtures for returns: fabric API keys, a client sending the fabric headers, the seed's order."""

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import Order, OrderItem, OrderStatus, Shipment, ShipmentStatus
from returns.models import AccountAPIKey
from tests.factories import CategoryFactory, OrderFactory, PaymentFactory, PromotionFactory, ShipmentLineFactory

# Seed 002's example answer to its return request, as the seed shows it (the order at every level).
SEED_ANSWER = json.loads((Path(__file__).parent / "seed002_order.json").read_text())

ACCOUNT = "5e3598e3007c5e00080d2bb8"
OTHER_ACCOUNT = "60aaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
def api_key(db):
    """(AccountAPIKey, raw key) for ACCOUNT."""
    return AccountAPIKey.objects.create_key(name="storefront", account=ACCOUNT)


@pytest.fixture
def other_api_key(db):
    return AccountAPIKey.objects.create_key(name="other-tenant", account=OTHER_ACCOUNT)


def fabric_client(key: str | None, context=None) -> APIClient:
    """A client sending ``x-api-key`` and ``x-site-context`` (a dict is JSON-encoded; a str is sent as is)."""
    client = APIClient()
    headers = {}
    if key is not None:
        headers["HTTP_X_API_KEY"] = key
    if context is not None:
        headers["HTTP_X_SITE_CONTEXT"] = context if isinstance(context, str) else json.dumps(context)
    client.credentials(**headers)
    return client


@pytest.fixture
def fabric(api_key):
    """``fabric()`` -> client with the storefront key and ``{"account": ACCOUNT}``; override either."""

    def make(key=api_key[1], context=None):
        return fabric_client(key, {"account": ACCOUNT} if context is None else context)

    return make


def seed_order(*, status=OrderStatus.COMPLETED, order_id="1626-4972-66351", account=ACCOUNT, channel=12) -> Order:
    """The seed's order in our data: 10 x Luminous Cushion Lagoon, shipped by USPS, paid by Visa; with the seed's
    ship-to choices, item data, promotions, billing address, card, token and shipment lines (issue 21). Its
    shipping is free (price and tax 0.00), so its totals are the item's."""
    order = OrderFactory(
        order_id=order_id,
        account=account,
        channel=channel,
        customer_id="5e3598e3007c5e00080d2bb8",
        customer_first_name="Mark",
        customer_middle_name="p",
        customer_last_name="styler",
        customer_email="mark@google.com",
        customer_phone="555-555-5555",
        customer_phone_kind="mobile",
        ship_to_street1="10400 NE 4th St",
        ship_to_street2="Suite 500",
        ship_to_city="Bellevue",
        ship_to_state="WA",
        ship_to_zip_code="98004",
        ship_to_country="USA",
        ship_to_tax_code="FR020000",
        ship_to_carrier="Fedex",
        ship_to_method="Express",
        ship_to_method_id="10000001",
        ship_to_promised_delivery_date=datetime(2021, 2, 14, tzinfo=UTC),
        ship_to_instructions="Leave at back door",
        tags=["vip"],
        events=[{"type": "note", "text": "Called the customer"}],
        attributes=[{"name": "giftWrap", "value": True}],
    )
    item = OrderItem.objects.create(
        order=order,
        line_number=1,
        sku="1538910",
        item_id="1000000663",
        store_item_name="Luminous Cushion Lagoon",
        category=CategoryFactory(name="Home"),
        quantity=10,
        unit_price=Decimal("12.00"),
        discount=Decimal("1.00"),
        tax=Decimal("5.23"),
        item_group="Group1",
        tax_code="FR020000",
        weight=Decimal("10"),
        weight_unit="lb",
        reserved_location="WH-BELLEVUE-01",
        attributes=[{"name": "color", "value": "Lagoon"}],
    )
    total = item.line_total  # 124.23
    Order.objects.filter(pk=order.pk).update(
        subtotal=item.line_subtotal, tax_total=item.tax, order_total=total, status=status
    )
    PaymentFactory(
        order=order,
        payment_group_id="pg_visa_1",
        payment_method="Visa",
        amount=total,
        payment_kind="Default payment",
        card_last_four="4242",
        token_reference="123456789",
        bill_to_first_name="Marl",
        bill_to_middle_name="p",
        bill_to_last_name="styler",
        bill_to_email="mark@google.com",
        bill_to_phone="555-555-5555",
        bill_to_phone_kind="mobile",
        bill_to_street1="10400 NE 4th St",
        bill_to_street2="Suite 500",
        bill_to_city="Bellevue",
        bill_to_state="WA",
        bill_to_zip_code="98004",
        bill_to_country="USA",
    )
    shipped = timezone.now()
    shipment = Shipment.objects.create(
        order=order,
        carrier="USPS",
        tracking_number="65765798989",
        status=ShipmentStatus.DELIVERED,
        shipped_date=shipped,
        carrier_url="https://tools.usps.com/go/TrackConfirmAction?tLabels=65765798989",
        delivered_date=shipped,
    )
    ShipmentLineFactory(shipment=shipment, order_item=item, quantity=10)
    PromotionFactory(order=order, name="test1")
    PromotionFactory(order=order, order_item=item, name="test")
    order.refresh_from_db()
    return order
