"""Fixtures shared by the hardening tests: a paid order with an issue, fabric keys of two accounts."""

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from returns.models import AccountAPIKey
from tests.factories import issue_factory, order_with_items

ACCOUNT = "5e3598e3007c5e00080d2bb8"
OTHER_ACCOUNT = "60aaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
def order(db):
    """A completed order of 40.00, paid in full, in ACCOUNT."""
    return order_with_items(items=2, unit_price=Decimal("20.00"), status="completed", account=ACCOUNT, channel=12)


@pytest.fixture
def issue(order, agent):
    return issue_factory(order, actor=agent, assigned_to=agent)


def bearer(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.key}")
    return client


@pytest.fixture
def cc():
    return bearer


@pytest.fixture
def fabric_key(db):
    return AccountAPIKey.objects.create_key(name="storefront", account=ACCOUNT)[1]


@pytest.fixture
def other_fabric_key(db):
    return AccountAPIKey.objects.create_key(name="other-tenant", account=OTHER_ACCOUNT)[1]


def fabric_client(key: str, account: str = ACCOUNT) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key, HTTP_X_SITE_CONTEXT=f'{{"account": "{account}"}}')
    return client
