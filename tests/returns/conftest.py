"""Fixtures for returns: fabric API keys, a client sending the fabric headers, the seed's order."""

import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import Order, OrderItem, OrderStatus, Shipment, ShipmentStatus
from returns.models import AccountAPIKey
from tests.factories import CategoryFactory, OrderFactory, PaymentFactory

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
    """The seed's order in our data: 10 x Luminous Cushion Lagoon, shipped by USPS, paid by Visa."""
    order = OrderFactory(
        order_id=order_id,
        account=account,
        channel=channel,
        customer_id="5e3598e3007c5e00080d2bb8",
        customer_first_name="Mark",
        customer_last_name="styler",
        customer_email="mark@google.com",
        customer_phone="555-555-5555",
        ship_to_street1="10400 NE 4th St",
        ship_to_street2="Suite 500",
        ship_to_city="Bellevue",
        ship_to_state="WA",
        ship_to_zip_code="98004",
        ship_to_country="USA",
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
    )
    total = item.line_total  # 124.23
    Order.objects.filter(pk=order.pk).update(
        subtotal=item.line_subtotal, tax_total=item.tax, order_total=total, status=status
    )
    PaymentFactory(order=order, payment_group_id="pg_visa_1", payment_method="Visa", amount=total)
    Shipment.objects.create(
        order=order,
        carrier="USPS",
        tracking_number="65765798989",
        status=ShipmentStatus.DELIVERED,
        shipped_date=timezone.now(),
    )
    order.refresh_from_db()
    return order
