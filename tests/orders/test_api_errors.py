"""DRF's own errors and unknown URLs under /api/ answer the back-office envelope, never HTML or a bare detail."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_envelope(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["success"] is False
    assert body["error_code"] == code
    assert isinstance(body["message"], str)
    assert body["message"]
    assert "detail" not in body
    return body


def test_no_token_is_401(db):
    r = APIClient().get("/api/v1/orders")
    assert_envelope(r, 401, "AUTHENTICATION_REQUIRED")
    assert r["WWW-Authenticate"].startswith("Token")


def test_bad_token_is_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_envelope(client.get("/api/v1/orders"), 401, "AUTHENTICATION_FAILED")


def test_inactive_user_token_is_401(api, agent):
    client = api(agent)
    agent.is_active = False
    agent.save()
    assert_envelope(client.get("/api/v1/orders"), 401, "AUTHENTICATION_FAILED")


def test_missing_permission_is_403(api, agent):
    body = assert_envelope(
        api(agent).post("/api/v1/categories", {"name": "x"}, format="json"), 403, "PERMISSION_DENIED"
    )
    assert "orders.add_category" in body["message"]


@pytest.mark.parametrize(
    "path", ["/api/v1/nothing-here", "/api/v1/orders/", "/api/nope", "/api/v1/orders/x/order-items/"]
)
def test_unknown_url_under_api_is_json_404(api, agent, path):
    assert_envelope(api(agent).get(path), 404, "NOT_FOUND")


def test_unknown_url_without_auth_is_json_404(db):
    assert_envelope(APIClient().get("/api/v1/nothing-here"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/orders"),
        ("put", "/api/v1/categories"),
        ("post", "/api/v1/orders/123"),
        ("get", "/api/v1/orders/1/order-items/2"),
    ],
)
def test_wrong_method_is_405(api, manager, method, path):
    r = getattr(api(manager), method)(path)
    assert_envelope(r, 405, "METHOD_NOT_ALLOWED")
    assert r["Allow"]


def test_malformed_json_is_parse_error(api, manager):
    r = api(manager).post("/api/v1/categories", data=b'{"name": "x",', content_type="application/json")
    assert_envelope(r, 400, "PARSE_ERROR")


@pytest.mark.parametrize("raw", [b'{"amount": NaN}', b'{"amount": Infinity}'])
def test_non_finite_numbers_are_parse_errors(api, manager, raw):
    assert_envelope(
        api(manager).post("/api/v1/categories", data=raw, content_type="application/json"), 400, "PARSE_ERROR"
    )


def test_unsupported_media_type(api, manager):
    r = api(manager).post("/api/v1/categories", data="name=x", content_type="application/x-www-form-urlencoded")
    assert_envelope(r, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_non_object_body_is_validation_error(api, manager):
    r = api(manager).post("/api/v1/categories", data=b"[1, 2]", content_type="application/json")
    assert_envelope(r, 400, "VALIDATION_ERROR")


def test_unexpected_exception_is_json_500(api, agent, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("orders.selectors.order_list", boom)
    client = api(agent)
    client.raise_request_exception = False
    r = client.get("/api/v1/orders")
    body = assert_envelope(r, 500, "INTERNAL_ERROR")
    assert "boom" not in body["message"]


def test_non_api_404_stays_html(client, db):
    r = client.get("/definitely-not-here/")
    assert r.status_code == 404
    assert not r["Content-Type"].startswith("application/json")
