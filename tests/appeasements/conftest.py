from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import order_with_items

BASE = "/ccagent/v1/appeasements"


def bearer_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


@pytest.fixture
def cc():
    """``cc(user)`` -> an APIClient sending ``Authorization: Bearer <the user's token>``."""
    return bearer_client


@pytest.fixture
def order(db):
    """A completed order of 100.00 USD, paid in full with one captured payment."""
    return order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")


@pytest.fixture
def payment(order):
    return order.payments.get()


def body(order, *, amount="10.00", refund_type="externalRefund", **extra) -> dict:
    data = {
        "orderId": order.order_id,
        "reason": "incorrectItem",
        "appeasementRefunds": [{"refundType": refund_type, "amount": amount, "currencyCode": order.currency}],
    }
    data.update(extra)
    return data
