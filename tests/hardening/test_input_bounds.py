"""Input bounds at the API boundary (issue 21): nesting, body size, control characters, in each dialect.

JSON nested deeper than ``API_MAX_JSON_DEPTH`` (32) levels in a write body is a 400 in the dialect's body
before any work, and so is a deep ``x-site-context`` header (fabric). A body over ``API_MAX_BODY_BYTES``
(256 KB) is a 413. A control character in a path is a 404, in a query parameter a 400 naming it, before any
database query (on PostgreSQL, ``%00`` used to reach the database and raise ``DataError``).
"""

from __future__ import annotations

import io
import json

import pytest
from rest_framework.test import APIClient

from appeasements.models import Appeasement
from config.api.bounds import PayloadTooLarge, json_too_deep
from config.api.parsers import DecimalJSONParser
from config.models import IdempotencyKey
from issues.models import OrderIssue
from orders.models import Order
from tests.hardening.conftest import ACCOUNT, bearer, fabric_client

pytestmark = pytest.mark.django_db

DEPTH = 32
KB = 1024


def nested(levels: int, leaf: str = "1") -> str:
    """JSON text nesting objects and arrays ``levels`` deep: {"a": [{"a": [ ... ]}]}."""
    opens, closes = [], []
    for n in range(levels):
        if n % 2:
            opens.append("[")
            closes.append("]")
        else:
            opens.append('{"a": ')
            closes.append("}")
    return "".join(opens) + leaf + "".join(reversed(closes))


def in_body(field: str, levels: int) -> bytes:
    """A JSON object whose ``field`` holds a structure ``levels - 1`` deep (so the body is ``levels`` deep)."""
    return f'{{"{field}": {nested(levels - 1)}}}'.encode()


def counts() -> tuple:
    return (
        OrderIssue.objects.count(),
        Appeasement.objects.count(),
        IdempotencyKey.objects.count(),
        tuple(Order.objects.order_by("pk").values_list("status", "revision")),
    )


# ----------------------------------------------------------------------------------------------------- the scan


@pytest.mark.parametrize("levels", [0, 1, 2, 5, 31, 32])
def test_scan_accepts_up_to_the_limit(levels):
    text = nested(levels) if levels else "1"
    assert not json_too_deep(text, DEPTH)
    json.loads(text)


@pytest.mark.parametrize("levels", [33, 34, 100, 2_000])
def test_scan_refuses_past_the_limit(levels):
    assert json_too_deep(nested(levels), DEPTH)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',  # brackets inside strings do not count
        '{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',  # nor after an escaped quote
        "[" + ",".join(["[]"] * 20_000) + "]",  # wide is fine
    ],
)
def test_scan_counts_structure_not_text(text):
    assert not json_too_deep(text, DEPTH)


@pytest.mark.parametrize("text", ["[" * 50_000, '[{"a":' * 20_000, '"' + '\\"' * 100_000])
def test_scan_is_linear_on_hostile_text(text):
    import time

    started = time.perf_counter()
    json_too_deep(text, DEPTH)
    assert time.perf_counter() - started < 1.0


def test_parser_stops_reading_past_the_limit(settings):
    """Without a Content-Length (a chunked body under ASGI) the parser reads at most the limit plus one byte."""
    settings.API_MAX_BODY_BYTES = 1 * KB
    stream = io.BytesIO(b'{"a": "' + b"x" * (2 * KB) + b'"}')
    with pytest.raises(PayloadTooLarge):
        DecimalJSONParser().parse(stream)
    assert stream.tell() == 1 * KB + 1


def test_parser_refuses_deep_json_below_the_recursion_limit():
    """100 levels parse fine with the recursion limit (1,000): refused all the same."""
    from rest_framework.exceptions import ParseError

    with pytest.raises(ParseError, match="32 levels"):
        DecimalJSONParser().parse(io.BytesIO(in_body("a", 100)))


# ------------------------------------------------------------------------------------------- deep JSON bodies


@pytest.mark.parametrize("levels", [33, 100, 1_000, 50_000])
def test_deep_backoffice_body_is_400_and_changes_nothing(api, agent, order, levels):
    before = counts()
    r = api(agent).post(
        f"/api/v1/orders/{order.order_id}/issues",
        data=in_body("title", levels),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"deep-{levels}",
    )
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["success"] is False
    assert body["error_code"] == "PARSE_ERROR"
    assert "32 levels" in body["message"]
    assert counts() == before


@pytest.mark.parametrize("levels", [33, 1_000, 50_000])
def test_deep_ccagent_body_is_13001_and_changes_nothing(agent, order, levels):
    before = counts()
    r = bearer(agent).post(
        "/ccagent/v1/appeasements",
        data=in_body("appeasementRefunds", levels),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"deep-{levels}",
    )
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["errorCode"] == "13001"
    assert body["status"] == "400"
    assert "32 levels" in body["message"]
    assert body["errors"][0]["errorCode"] == "13001"
    assert counts() == before


@pytest.mark.parametrize("levels", [33, 1_000, 50_000])
def test_deep_fabric_body_is_400_and_changes_nothing(fabric_key, order, levels):
    before = counts()
    r = fabric_client(fabric_key).patch(
        "/api-order/orders/return",
        data=in_body("orderId", levels),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=f"deep-{levels}",
    )
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "PARSE_ERROR"
    assert "32 levels" in body["message"]
    assert counts() == before


def test_body_at_the_limit_is_not_a_parse_error(api, agent, order):
    """32 levels is allowed through the parser (the serializer then judges the field)."""
    r = api(agent).post(
        f"/api/v1/orders/{order.order_id}/issues", data=in_body("title", DEPTH), content_type="application/json"
    )
    assert r.status_code == 400, r.content
    assert r.json()["error_code"] != "PARSE_ERROR"


@pytest.mark.parametrize("levels", [33, 2_000, 20_000])
def test_deep_site_context_is_fabric_400(fabric_key, order, levels):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=fabric_key, HTTP_X_SITE_CONTEXT=nested(levels))
    r = client.get(f"/api-order/orders/{order.order_id}")
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["code"] == "INVALID_SITE_CONTEXT"
    assert body["field"] == "x-site-context"
    assert "32 levels" in body["message"]


def test_deep_site_context_on_a_write_changes_nothing(fabric_key, order):
    before = counts()
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=fabric_key, HTTP_X_SITE_CONTEXT=nested(2_000))
    r = client.patch(
        "/api-order/orders/cancel", {"orderId": order.order_id}, format="json", HTTP_IDEMPOTENCY_KEY="deep-ctx"
    )
    assert r.status_code == 400, r.content
    assert r.json()["code"] == "INVALID_SITE_CONTEXT"
    assert counts() == before


def test_shallow_site_context_still_works(fabric_key, order):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=fabric_key, HTTP_X_SITE_CONTEXT=json.dumps({"account": ACCOUNT, "x": [[[1]]]}))
    assert client.get(f"/api-order/orders/{order.order_id}").status_code == 200


# ------------------------------------------------------------------------------------------------ body size


def big_body(field: str, size: int = 300 * KB) -> bytes:
    return json.dumps({field: "x" * size}).encode()


def test_oversize_backoffice_body_is_413(api, agent, order, django_assert_max_num_queries):
    before = counts()
    client = api(agent)
    with django_assert_max_num_queries(0):  # refused before the token is even looked up
        r = client.post(
            f"/api/v1/orders/{order.order_id}/issues", data=big_body("title"), content_type="application/json"
        )
    assert r.status_code == 413, r.content
    body = r.json()
    assert body["success"] is False
    assert body["error_code"] == "PAYLOAD_TOO_LARGE"
    assert body["max_bytes"] == 256 * KB
    assert counts() == before


def test_oversize_ccagent_body_is_413(agent, order):
    """The finding: 5,000 appeasementRefunds of 0.01 (325 KB) took 19 s to create."""
    refunds = [{"refundType": "externalRefund", "amount": 0.01, "currencyCode": "USD"}] * 5_000
    raw = json.dumps({"orderId": order.order_id, "reason": "incorrectItem", "appeasementRefunds": refunds}).encode()
    assert len(raw) > 256 * KB
    before = counts()
    r = bearer(agent).post("/ccagent/v1/appeasements", data=raw, content_type="application/json")
    assert r.status_code == 413, r.content
    body = r.json()
    assert body["errorCode"] == "13001"
    assert body["status"] == "413"
    assert "262144 bytes" in body["message"]
    assert counts() == before


def test_oversize_fabric_body_is_413(fabric_key, order):
    before = counts()
    r = fabric_client(fabric_key).patch(
        "/api-order/orders/return", data=big_body("returnMessage"), content_type="application/json"
    )
    assert r.status_code == 413, r.content
    assert r.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert counts() == before


def test_body_limit_is_a_setting(api, manager, settings):
    settings.API_MAX_BODY_BYTES = 2 * KB
    r = api(manager).post("/api/v1/categories", data=big_body("name", 3 * KB), content_type="application/json")
    assert r.status_code == 413
    assert r.json()["max_bytes"] == 2 * KB
    small = api(manager).post("/api/v1/categories", data=big_body("name", 1 * KB), content_type="application/json")
    assert small.status_code != 413


def test_oversize_body_on_an_unknown_api_path_is_413_json(client):
    r = client.post("/ccagent/v1/nothing", data=big_body("a"), content_type="application/json")
    assert r.status_code == 413
    assert r.json()["errorCode"] == "13001"


def test_big_admin_form_is_not_an_api_matter(client, manager):
    """The API limit applies under the API prefixes only."""
    client.force_login(manager)
    r = client.post("/admin/", data={"q": "x" * (300 * KB)})
    assert r.status_code != 413


# ------------------------------------------------------------------------------------ control characters in ids


PATHS_404 = [
    ("/api/v1/orders/%00", "error_code", "NOT_FOUND"),
    ("/api/v1/orders/%00/issues", "error_code", "NOT_FOUND"),
    ("/api/v1/orders/abc%00def/order-items/%00", "error_code", "NOT_FOUND"),
    ("/api/v1/webhooks/%00", "error_code", "NOT_FOUND"),
    ("/api/v1/approvals/%1F/approve", "error_code", "NOT_FOUND"),
    ("/ccagent/v1/appeasements/%00", "errorCode", "900002"),
    ("/ccagent/v1/appeasements/app%7F1", "errorCode", "900002"),
    ("/api-order/orders/%00", "code", "NOT_FOUND"),
    ("/api-order/orders/o-%0A", "code", "NOT_FOUND"),
]


@pytest.mark.parametrize(("path", "key", "code"), PATHS_404)
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete", "post"])
def test_control_character_in_path_is_404_before_any_query(
    agent, fabric_key, path, key, code, method, django_assert_max_num_queries
):
    if path.startswith("/api/v1/"):
        from tests.conftest import client_for

        client = client_for(agent)
    elif path.startswith("/ccagent/"):
        client = bearer(agent)
    else:
        client = fabric_client(fabric_key)
    with django_assert_max_num_queries(0):
        r = getattr(client, method)(path, data={}, format="json")
    assert r.status_code == 404, r.content
    assert r["Content-Type"].startswith("application/json")
    assert r.json()[key] == code


QUERIES_400 = [
    ("/api/v1/orders?status=%00", "status"),
    ("/api/v1/issues?priority=high%00", "priority"),
    ("/api/v1/orders?page=1&customer_email=a%01b", "customer_email"),
    ("/ccagent/v1/appeasements?orderId=%00", "orderId"),
    ("/ccagent/v1/appeasements?profileId=%1B", "profileId"),
    ("/api-order/orders/{order}?expand=%00", "expand"),
]


def _client_for_path(path, agent, fabric_key):
    if path.startswith("/api/v1/"):
        from tests.conftest import client_for

        return client_for(agent)
    if path.startswith("/ccagent/"):
        return bearer(agent)
    return fabric_client(fabric_key)


@pytest.mark.parametrize(("path", "param"), QUERIES_400)
def test_control_character_in_query_is_400_naming_it(
    agent, fabric_key, order, path, param, django_assert_max_num_queries
):
    path = path.replace("{order}", order.order_id)
    client = _client_for_path(path, agent, fabric_key)
    with django_assert_max_num_queries(0):
        r = client.get(path)
    assert r.status_code == 400, r.content
    body = r.json()
    if path.startswith("/api/v1/"):
        assert body["error_code"] == "VALIDATION_ERROR"
        assert body["validation_errors"] == [{"field": param, "error": "Must not contain control characters"}]
        assert param in body["message"]
    elif path.startswith("/ccagent/"):
        assert body["errorCode"] == "13001"
        assert body["errors"][0]["field"] == param
        assert param in body["message"]
    else:
        assert body["code"] == "VALIDATION_ERROR"
        assert body["field"] == param


@pytest.mark.parametrize(
    ("path", "header", "value", "key", "code"),
    [
        ("/api/v1/orders", "HTTP_AUTHORIZATION", "Token abc\x00def", "error_code", "VALIDATION_ERROR"),
        ("/ccagent/v1/appeasements", "HTTP_AUTHORIZATION", "Bearer \x00", "errorCode", "13001"),
        ("/api-order/orders/o1", "HTTP_X_API_KEY", "abc.\x00", "code", "VALIDATION_ERROR"),
        ("/api-order/orders/o1", "HTTP_X_SITE_CONTEXT", '{"account": "\x01"}', "code", "VALIDATION_ERROR"),
    ],
)
def test_control_character_in_a_header_is_400_naming_it(path, header, value, key, code, django_assert_max_num_queries):
    """The token and key headers are looked up in the database: on PostgreSQL a NUL there was a DataError."""
    client = APIClient()
    with django_assert_max_num_queries(0):
        r = client.get(path, **{header: value})
    assert r.status_code == 400, r.content
    body = r.json()
    assert body[key] == code
    name = header[5:].replace("_", "-").lower()
    assert name in json.dumps(body)


def test_a_tab_in_a_header_is_fine(fabric_key, order):
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=fabric_key, HTTP_X_SITE_CONTEXT=f'{{"account":\t"{ACCOUNT}"}}')
    assert client.get(f"/api-order/orders/{order.order_id}").status_code == 200


def test_control_character_in_a_query_name_is_400(agent):
    r = bearer(agent).get("/ccagent/v1/appeasements?order%00Id=1")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "order\\x00Id"


def test_delete_with_nul_agent_id_is_400_and_deletes_nothing(agent, order):
    from appeasements import services

    appeasement = services.appeasement_create(
        caller=agent,
        data=services.AppeasementInput(
            order_id=order.order_id,
            reason="incorrectItem",
            refunds=[services.RefundInput(refund_type="externalRefund", amount=1, currency_code=order.currency)],
            given={"orderId", "reason", "appeasementRefunds"},
        ),
    )
    r = bearer(agent).delete(f"/ccagent/v1/appeasements/{appeasement.appeasement_id}?agentId=%00")
    assert r.status_code == 400
    assert r.json()["errors"][0]["field"] == "agentId"
    assert Appeasement.objects.filter(pk=appeasement.pk).exists()


def test_ordinary_unicode_in_ids_is_still_looked_up(agent):
    """Only control characters are refused: other text reaches the view (an unknown id: its own 404)."""
    r = bearer(agent).get("/ccagent/v1/appeasements/%C3%A9t%C3%A9")
    assert r.status_code == 404
    assert r.json()["errorCode"] == "900002"


# -------------------------------------------------------------------------------------------- NUL in a JSON body


def test_nul_in_a_body_string_is_400_naming_the_field(agent, order):
    before = counts()
    r = bearer(agent).post(
        "/ccagent/v1/appeasements",
        data=b'{"orderId": "%s", "reason": "incorrectItem", "appeasementRefunds": [{"refundType": "ext\\u0000"}]}'
        % order.order_id.encode(),
        content_type="application/json",
    )
    assert r.status_code == 400, r.content
    body = r.json()
    assert body["errorCode"] == "13001"
    assert body["errors"][0]["field"] == "appeasementRefunds[0].refundType"
    assert counts() == before


def test_nul_in_a_backoffice_body_is_400(api, agent, order):
    r = api(agent).post(
        f"/api/v1/orders/{order.order_id}/issues",
        data=b'{"title": "broken\\u0000", "issue_type": "wrong_item"}',
        content_type="application/json",
    )
    assert r.status_code == 400, r.content
    assert r.json()["validation_errors"][0]["field"] == "title"


def test_an_escaped_backslash_before_u0000_is_text(api, manager):
    r = api(manager).post("/api/v1/categories", data=b'{"name": "C:\\\\u0000 folder"}', content_type="application/json")
    assert r.status_code == 201, r.content
    assert r.json()["name"] == "C:\\u0000 folder"
