"""Write throttling per caller (429 in the dialect's body), /healthz, django-axes on the admin login."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.db.utils import OperationalError

from config.api.throttles import WriteRateThrottle
from tests.hardening.conftest import fabric_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_writes_a_minute(monkeypatch):
    cache.clear()
    monkeypatch.setattr(WriteRateThrottle, "THROTTLE_RATES", {"writes": "2/min"})
    yield
    cache.clear()


def test_writes_are_throttled_per_caller_in_each_dialect(two_writes_a_minute, api, cc, agent, other_agent, issue):
    url = f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}"
    body = {"notes": "Called the customer", "updated_by": agent.username}
    for _ in range(2):
        assert api(agent).patch(url, body, format="json").status_code == 200
    r = api(agent).patch(url, body, format="json")
    assert r.status_code == 429
    assert r.json()["error_code"] == "RATE_LIMITED"
    assert int(r["Retry-After"]) > 0
    # reads are not throttled; another caller has its own budget
    assert api(agent).get(url).status_code == 200
    assert api(other_agent).patch(url, {**body, "updated_by": other_agent.username}, format="json").status_code == 200
    # the commerce-agent body
    r = cc(agent).post("/ccagent/v1/appeasements", {}, format="json")
    assert r.status_code == 429
    assert r.json()["errorCode"] == "429"


def test_fabric_writes_are_throttled_per_key(two_writes_a_minute, order, fabric_key):
    client = fabric_client(fabric_key)
    for _ in range(2):
        client.patch("/api-order/orders/cancel", {}, format="json")
    r = client.patch("/api-order/orders/cancel", {}, format="json")
    assert r.status_code == 429
    assert r.json()["code"] == "RATE_LIMITED"


def test_healthz_answers_without_auth(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_healthz_is_503_without_detail_when_the_database_is_down(client):
    with mock.patch("config.health.connection.cursor", side_effect=OperationalError("connection refused at 10.0.0.5")):
        r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable"}
    assert b"10.0.0.5" not in r.content


def test_admin_login_locks_out_after_repeated_failures(client, agent):
    for _ in range(5):
        client.post("/admin/login/", {"username": agent.username, "password": "wrong"})
    # even the right password is refused during the cool-off
    r = client.post("/admin/login/", {"username": agent.username, "password": "pass-" + agent.username})
    assert r.status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_login_works_with_the_right_password(client, agent):
    r = client.post("/admin/login/", {"username": agent.username, "password": "pass-" + agent.username})
    assert r.status_code == 302
    assert client.session["_auth_user_id"] == str(agent.pk)
