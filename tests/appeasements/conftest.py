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


def as_number(amount):
    """A money amount as a JSON number; anything that is not one (a test of a bad value) as given."""
    try:
        return Decimal(str(amount))
    except ArithmeticError:
        return amount


def body(order, *, amount="10.00", refund_type="externalRefund", **extra) -> dict:
    """An appeasement body; ``amount`` is sent as a JSON number (a string is refused, as the schema says)."""
    data = {
        "orderId": order.order_id,
        "reason": "incorrectItem",
        "appeasementRefunds": [
            {"refundType": refund_type, "amount": as_number(amount), "currencyCode": order.currency}
        ],
    }
    data.update(extra)
    return data


class HookServer:
    """A validation webhook on 127.0.0.1, in a thread: answers ``status`` with ``reply`` (bytes or JSON)."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.status, self.reply, self.received, self.delay = 200, {"valid": True}, [], 0.0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                import time

                length = int(self.headers.get("Content-Length", 0))
                server.received.append(json.loads(self.rfile.read(length)))
                if server.delay:
                    time.sleep(server.delay)
                raw = server.reply if isinstance(server.reply, bytes) else json.dumps(server.reply).encode()
                self.send_response(server.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/appeasement-validation"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hook(settings):
    """A running local validation webhook, configured as APPEASEMENT_VALIDATION_URL."""
    server = HookServer()
    settings.APPEASEMENT_VALIDATION_URL = server.url
    settings.APPEASEMENT_VALIDATION_TIMEOUT = 2
    yield server
    server.close()


def assert_cc_error(response, status: int, code: str, field: str | None = None) -> dict:
    """The seed's errorModel: errorCode, message, status (strings) and errors [...]."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert set(data) >= {"errorCode", "message", "status", "errors"}, data
    assert data["errorCode"] == code, data
    assert data["status"] == str(status)
    assert data["errors"]
    assert all(e["errorCode"] == code and e["status"] == str(status) for e in data["errors"])
    assert "success" not in data
    assert "detail" not in data
    if field is not None:
        assert field in [e.get("field") for e in data["errors"]], data
        assert field in data["message"] or len(data["errors"]) > 1
    return data
