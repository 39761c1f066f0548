"""x-api-key and x-site-context on every /api-order/ endpoint: 401, 400, 403, in the fabric error body."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import OrderStatus
from returns.models import AccountAPIKey
from tests.returns.conftest import ACCOUNT, OTHER_ACCOUNT, fabric_client, seed_order

pytestmark = pytest.mark.django_db

BODY = {"returnCode": "2001", "orderId": "1626-4972-66351"}
CONTEXT = {"account": ACCOUNT}


def call(client, endpoint: str):
    if endpoint == "return":
        return client.patch("/api-order/orders/return", BODY, format="json")
    if endpoint == "cancel":
        return client.patch(
            "/api-order/orders/cancel", {"cancellationCode": "1001", "orderId": "1626-4972-66351"}, format="json"
        )
    return client.get("/api-order/orders/1626-4972-66351")


ENDPOINTS = ["return", "cancel", "detail"]


@pytest.fixture
def order(db):
    return seed_order()


def assert_unchanged(order):
    order.refresh_from_db()
    assert order.status == OrderStatus.COMPLETED
    assert order.revision == 1


# ----------------------------------------------------------------- x-api-key (401)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_missing_key(order, endpoint):
    response = call(fabric_client(None, CONTEXT), endpoint)
    assert response.status_code == 401
    assert response.json() == {"code": "API_KEY_REQUIRED", "message": "The x-api-key header is required"}
    assert_unchanged(order)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("key", ["nonsense", "abcd1234.wrongsecret", " "])
def test_unknown_key(order, api_key, endpoint, key):
    response = call(fabric_client(key, CONTEXT), endpoint)
    assert response.status_code == 401
    expected_code = "API_KEY_REQUIRED" if not key.strip() else "INVALID_API_KEY"
    assert response.json()["code"] == expected_code
    assert_unchanged(order)


def test_a_key_with_a_right_prefix_but_wrong_secret(order, api_key):
    prefix = api_key[0].prefix
    response = call(fabric_client(f"{prefix}.notthesecret", CONTEXT), "return")
    assert response.status_code == 401
    assert response.json() == {"code": "INVALID_API_KEY", "message": "The API key is not valid, revoked or expired"}


def test_revoked_key(order, api_key):
    obj, key = api_key
    obj.revoked = True
    obj.save()
    response = call(fabric_client(key, CONTEXT), "return")
    assert response.status_code == 401
    assert response.json() == {"code": "INVALID_API_KEY", "message": "The API key is not valid, revoked or expired"}
    assert_unchanged(order)


def test_expired_key(order, api_key):
    obj, key = api_key
    obj.expiry_date = timezone.now() - timedelta(minutes=1)
    obj.save()
    response = call(fabric_client(key, CONTEXT), "return")
    assert response.status_code == 401
    assert response.json()["code"] == "INVALID_API_KEY"
    assert_unchanged(order)


def test_the_key_is_checked_before_the_context(order):
    response = call(fabric_client("nonsense", "not json"), "return")
    assert response.status_code == 401


def test_an_authorization_header_is_not_a_fabric_key(order, api_key):
    client = fabric_client(None, CONTEXT)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[1]}", HTTP_X_SITE_CONTEXT=json.dumps(CONTEXT))
    assert call(client, "return").status_code == 401


# ----------------------------------------------------------------- x-site-context (400)


@pytest.mark.parametrize(
    ("context", "field", "message"),
    [
        (None, "x-site-context", "The x-site-context header is required"),
        ("", "x-site-context", "The x-site-context header is required"),
        ("{not json", "x-site-context", "The x-site-context header must be a JSON object"),
        ('["5e3598e3007c5e00080d2bb8"]', "x-site-context", "The x-site-context header must be a JSON object"),
        ('"5e3598e3007c5e00080d2bb8"', "x-site-context", "The x-site-context header must be a JSON object"),
        ({}, "x-site-context.account", "x-site-context.account is required"),
        ({"channel": 12}, "x-site-context.account", "x-site-context.account is required"),
        (
            {"account": "short"},
            "x-site-context.account",
            "x-site-context.account must be the 24-character account identifier",
        ),
        (
            {"account": 12345},
            "x-site-context.account",
            "x-site-context.account must be the 24-character account identifier",
        ),
        (
            {"account": ACCOUNT, "channel": "twelve"},
            "x-site-context.channel",
            "x-site-context.channel must be a sales channel ID (a whole number)",
        ),
        (
            {"account": ACCOUNT, "channel": -1},
            "x-site-context.channel",
            "x-site-context.channel must be a sales channel ID (a whole number)",
        ),
        (
            {"account": ACCOUNT, "channel": True},
            "x-site-context.channel",
            "x-site-context.channel must be a sales channel ID (a whole number)",
        ),
        ({"account": ACCOUNT, "stage": 3}, "x-site-context.stage", "x-site-context.stage must be a string"),
        (
            {"account": ACCOUNT, "date": "yesterday"},
            "x-site-context.date",
            "x-site-context.date must be an ISO 8601 date or date-time",
        ),
        (
            {"account": ACCOUNT, "date": "2021-02-30"},
            "x-site-context.date",
            "x-site-context.date must be an ISO 8601 date or date-time",
        ),
    ],
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_bad_site_context(order, api_key, endpoint, context, field, message):
    response = call(fabric_client(api_key[1], context), endpoint)
    assert response.status_code == 400
    assert response.json() == {"code": "INVALID_SITE_CONTEXT", "message": message, "field": field}
    assert_unchanged(order)


@pytest.mark.parametrize(
    "context",
    [
        {"account": ACCOUNT, "channel": 12, "stage": "prod", "date": "2021-09-22T11:05:48.210Z"},
        {"account": ACCOUNT, "date": "2021-09-22"},
        {"account": ACCOUNT, "channel": "12"},
        {"account": ACCOUNT, "somethingElse": True},
    ],
)
def test_good_site_contexts(order, api_key, context):
    assert call(fabric_client(api_key[1], context), "detail").status_code == 200


# ----------------------------------------------------------------- the key's account (403)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_key_for_another_account(order, other_api_key, endpoint):
    response = call(fabric_client(other_api_key[1], CONTEXT), endpoint)
    assert response.status_code == 403
    assert response.json() == {
        "code": "ACCOUNT_MISMATCH",
        "message": "The API key does not belong to the account in x-site-context",
    }
    assert_unchanged(order)


def test_a_key_reaches_only_its_own_accounts_orders(order, other_api_key):
    """The other account's key, with its own context, cannot see or return our order."""
    client = fabric_client(other_api_key[1], {"account": OTHER_ACCOUNT})
    for endpoint in ENDPOINTS:
        response = call(client, endpoint)
        assert response.status_code == 404
        assert response.json() == {
            "code": "ORDER_NOT_FOUND",
            "message": "Order not found",
            "orderId": "1626-4972-66351",
        }
    assert_unchanged(order)


# ----------------------------------------------------------------- anything else under /api-order/


def test_unknown_path_answers_in_the_fabric_body(api_key):
    response = fabric_client(api_key[1], CONTEXT).get("/api-order/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"code": "NOT_FOUND", "message": "Not found"}


def test_the_key_is_stored_hashed(api_key):
    obj, key = api_key
    stored = AccountAPIKey.objects.get(pk=obj.pk)
    assert key not in (stored.hashed_key, stored.id)
    assert AccountAPIKey.objects.is_valid(key)
