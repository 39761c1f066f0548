"""Every API answer is JSON in its dialect's body (issue 21): 500s, CSRF failures, unknown paths, 405s.

Inside a ccagent request a database error is a 500 with seed 004's ``900001`` (repository error) and any
other unexpected error a 500 with ``900000``; the back office and fabric answer 500 in their own bodies. None
leaks the exception's text, DEBUG on or off. A session POST without a CSRF token under an API prefix gets the
dialect's body, never Django's HTML "403 Forbidden" page.
"""

from __future__ import annotations

import logging

import pytest
from django.db import DatabaseError, DataError, IntegrityError, OperationalError
from django.test import Client

from appeasements.models import Appeasement
from config.models import IdempotencyKey
from tests.conftest import client_for
from tests.hardening.conftest import bearer, fabric_client

pytestmark = pytest.mark.django_db

SECRET = "relation secret_table does not exist at 10.0.0.7"

DIALECT_KEY = {"/api/v1/": "error_code", "/api-order/": "code", "/ccagent/v1/": "errorCode"}


def dialect_body(response, prefix: str) -> dict:
    assert response["Content-Type"].startswith("application/json"), response.content[:300]
    body = response.json()
    if prefix == "/api/v1/":
        assert body["success"] is False
        assert set(body) >= {"success", "message", "error_code"}
    elif prefix == "/api-order/":
        assert set(body) >= {"code", "message"}
    else:
        assert set(body) >= {"errorCode", "message", "status", "errors"}
        assert body["status"] == str(response.status_code)
        assert body["errors"][0]["errorCode"] == body["errorCode"]
    return body


def raising(exc: Exception):
    def boom(*args, **kwargs):
        raise exc

    return boom


# ------------------------------------------------------------------------------------------------------- 500s

DB_ERRORS = [DatabaseError(SECRET), OperationalError(SECRET), IntegrityError(SECRET), DataError(SECRET)]


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("exc", DB_ERRORS, ids=lambda e: type(e).__name__)
def test_ccagent_database_error_is_900001(agent, monkeypatch, settings, caplog, debug, exc):
    settings.DEBUG = debug
    monkeypatch.setattr("appeasements.selectors.appeasement_list", raising(exc))
    client = bearer(agent)
    client.raise_request_exception = False
    with caplog.at_level(logging.ERROR, logger="django.request"):
        r = client.get("/ccagent/v1/appeasements")
    assert r.status_code == 500
    body = dialect_body(r, "/ccagent/v1/")
    assert body["errorCode"] == "900001"
    assert SECRET not in r.content.decode()
    assert type(exc).__name__ not in r.content.decode()
    logged = [rec for rec in caplog.records if rec.name == "django.request" and rec.levelno == logging.ERROR]
    assert logged, "the exception is logged"
    assert logged[0].exc_info
    assert logged[0].exc_info[1] is exc


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("exc", [RuntimeError(SECRET), KeyError(SECRET), ZeroDivisionError(SECRET)])
def test_ccagent_other_error_is_900000(agent, monkeypatch, settings, debug, exc):
    settings.DEBUG = debug
    monkeypatch.setattr("appeasements.selectors.appeasement_list", raising(exc))
    client = bearer(agent)
    client.raise_request_exception = False
    r = client.get("/ccagent/v1/appeasements")
    assert r.status_code == 500
    body = dialect_body(r, "/ccagent/v1/")
    assert body["errorCode"] == "900000"
    assert SECRET not in r.content.decode()


@pytest.mark.parametrize("debug", [False, True])
def test_ccagent_database_error_on_a_write_is_900001_and_keeps_nothing(agent, order, monkeypatch, settings, debug):
    settings.DEBUG = debug
    monkeypatch.setattr("appeasements.services.appeasement_create", raising(IntegrityError(SECRET)))
    client = bearer(agent)
    client.raise_request_exception = False
    body = {
        "orderId": order.order_id,
        "reason": "incorrectItem",
        "appeasementRefunds": [{"refundType": "externalRefund", "amount": 1.5, "currencyCode": order.currency}],
    }
    r = client.post("/ccagent/v1/appeasements", body, format="json", HTTP_IDEMPOTENCY_KEY="db-error-1")
    assert r.status_code == 500
    assert dialect_body(r, "/ccagent/v1/")["errorCode"] == "900001"
    assert Appeasement.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0  # a 5xx is not kept: the retry runs again


def test_the_test_client_still_sees_the_exception(agent, monkeypatch):
    """Django's got_request_exception is still sent (error reporting; the test client re-raises it)."""
    monkeypatch.setattr("appeasements.selectors.appeasement_list", raising(OperationalError(SECRET)))
    with pytest.raises(OperationalError):
        bearer(agent).get("/ccagent/v1/appeasements")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("exc", [OperationalError(SECRET), RuntimeError(SECRET)], ids=lambda e: type(e).__name__)
def test_backoffice_500_is_its_envelope(agent, monkeypatch, settings, debug, exc):
    settings.DEBUG = debug
    monkeypatch.setattr("orders.selectors.order_list", raising(exc))
    client = client_for(agent)
    client.raise_request_exception = False
    r = client.get("/api/v1/orders")
    assert r.status_code == 500
    body = dialect_body(r, "/api/v1/")
    assert body["error_code"] == "INTERNAL_ERROR"
    assert SECRET not in r.content.decode()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("exc", [OperationalError(SECRET), RuntimeError(SECRET)], ids=lambda e: type(e).__name__)
def test_fabric_500_is_its_envelope(fabric_key, order, monkeypatch, settings, debug, exc):
    settings.DEBUG = debug
    monkeypatch.setattr("returns.fabric.views.fabric_order_queryset", raising(exc))
    client = fabric_client(fabric_key)
    client.raise_request_exception = False
    r = client.get(f"/api-order/orders/{order.order_id}")
    assert r.status_code == 500
    body = dialect_body(r, "/api-order/")
    assert body["code"] == "INTERNAL_ERROR"
    assert SECRET not in r.content.decode()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("exc", "code"), [(OperationalError(SECRET), "900001"), (RuntimeError(SECRET), "900000")], ids=["db", "other"]
)
def test_error_in_a_middleware_is_json_too(agent, monkeypatch, settings, debug, exc, code):
    """Raised outside any view (here: the session middleware): still the dialect's body, DEBUG on or off."""
    settings.DEBUG = debug
    monkeypatch.setattr("django.contrib.sessions.middleware.SessionMiddleware.process_request", raising(exc))
    client = bearer(agent)
    client.raise_request_exception = False
    r = client.get("/ccagent/v1/appeasements")
    assert r.status_code == 500
    assert dialect_body(r, "/ccagent/v1/")["errorCode"] == code
    assert SECRET not in r.content.decode()


def test_non_api_500_stays_html(client, monkeypatch):
    monkeypatch.setattr("django.contrib.sessions.middleware.SessionMiddleware.process_request", raising(KeyError()))
    client.raise_request_exception = False
    r = client.get("/admin/login/")
    assert r.status_code == 500
    assert not r["Content-Type"].startswith("application/json")


# -------------------------------------------------------------------------------------------------------- CSRF


def session_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("path", "prefix", "code"),
    [
        ("/api/v1/orders/", "/api/v1/", "NOT_FOUND"),  # the trailing slash: an unknown path
        ("/api/v1/nothing-here", "/api/v1/", "NOT_FOUND"),
        ("/api-order/orders/return/", "/api-order/", "NOT_FOUND"),
        ("/api-order/nothing", "/api-order/", "NOT_FOUND"),
        ("/ccagent/v1/appeasements/", "/ccagent/v1/", "900002"),
        ("/ccagent/v1/nothing", "/ccagent/v1/", "900002"),
    ],
)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_session_write_without_csrf_to_an_unknown_path_is_a_json_404(manager, path, prefix, code, method):
    r = getattr(session_client(manager), method)(path, data="{}", content_type="application/json")
    assert r.status_code == 404, r.content[:200]
    assert dialect_body(r, prefix)[DIALECT_KEY[prefix]] == code


def test_session_write_without_csrf_to_a_backoffice_endpoint_is_json_403(manager):
    r = session_client(manager).post("/api/v1/categories", data='{"name": "x"}', content_type="application/json")
    assert r.status_code == 403
    body = dialect_body(r, "/api/v1/")
    assert body["error_code"] == "PERMISSION_DENIED"
    assert "CSRF" in body["message"]


@pytest.mark.urls("tests.hardening.csrf_probe_urls")
@pytest.mark.parametrize(
    ("path", "prefix", "code"),
    [
        ("/api/v1/_probe", "/api/v1/", "PERMISSION_DENIED"),
        ("/api-order/_probe", "/api-order/", "PERMISSION_DENIED"),
        ("/ccagent/v1/_probe", "/ccagent/v1/", "403"),
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_csrf_failure_view_answers_the_dialect(manager, settings, path, prefix, code, debug):
    settings.DEBUG = debug
    client = session_client(manager)
    r = client.post(path, data="{}", content_type="application/json")
    assert r.status_code == 403
    body = dialect_body(r, prefix)
    assert body[DIALECT_KEY[prefix]] == code
    assert "CSRF Failed" in body["message"]
    # with the token the same view runs
    client.get("/admin/")  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    assert client.post(path, data="{}", content_type="application/json", HTTP_X_CSRFTOKEN=token).status_code == 200


@pytest.mark.urls("tests.hardening.csrf_probe_urls")
def test_csrf_failure_elsewhere_stays_html(manager):
    r = session_client(manager).post("/_probe", data={"a": "b"})
    assert r.status_code == 403
    assert r["Content-Type"].startswith("text/html")
    assert b"CSRF" in r.content


@pytest.mark.urls("tests.hardening.csrf_probe_urls")
@pytest.mark.parametrize(
    ("path", "prefix", "code"),
    [
        ("/api/v1/_missing", "/api/v1/", "NOT_FOUND"),
        ("/api-order/_missing", "/api-order/", "NOT_FOUND"),
        ("/ccagent/v1/_missing", "/ccagent/v1/", "900002"),
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_django_error_pages_under_the_api_are_json(client, settings, path, prefix, code, debug):
    """A Django view's Http404 (DEBUG's technical page is HTML) answers the dialect's body."""
    settings.DEBUG = debug
    r = client.get(path)
    assert r.status_code == 404
    assert dialect_body(r, prefix)[DIALECT_KEY[prefix]] == code
    assert b"nothing here" not in r.content


# --------------------------------------------------------------------------------------------------------- 405s


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "path", "prefix", "code"),
    [
        ("delete", "/api/v1/orders", "/api/v1/", "METHOD_NOT_ALLOWED"),
        ("put", "/api/v1/categories", "/api/v1/", "METHOD_NOT_ALLOWED"),
        ("post", "/api/docs/", "/api/v1/", "METHOD_NOT_ALLOWED"),
        ("delete", "/api/schema/", "/api/v1/", "METHOD_NOT_ALLOWED"),
        ("put", "/ccagent/v1/appeasements", "/ccagent/v1/", "13001"),
        ("patch", "/ccagent/v1/appeasements/app1", "/ccagent/v1/", "13001"),
        ("delete", "/api-order/orders/return", "/api-order/", "METHOD_NOT_ALLOWED"),
        ("post", "/api-order/orders/x1", "/api-order/", "METHOD_NOT_ALLOWED"),
    ],
)
def test_wrong_method_is_json_405(manager, fabric_key, settings, debug, method, path, prefix, code):
    settings.DEBUG = debug
    if prefix == "/ccagent/v1/":
        client = bearer(manager)
    elif prefix == "/api-order/":
        client = fabric_client(fabric_key)
    else:
        client = client_for(manager)
    r = getattr(client, method)(path, data={}, format="json")
    assert r.status_code == 405, r.content[:300]
    body = dialect_body(r, prefix)
    assert body[DIALECT_KEY[prefix]] == code
    assert r["Allow"]


@pytest.mark.parametrize(
    ("path", "prefix"),
    [("/api/v1/orders/", "/api/v1/"), ("/api-order/x/", "/api-order/"), ("/ccagent/x", "/ccagent/v1/")],
)
def test_unknown_paths_are_json_404_with_debug_on(client, settings, path, prefix):
    settings.DEBUG = True
    r = client.get(path)
    assert r.status_code == 404
    dialect_body(r, prefix)
