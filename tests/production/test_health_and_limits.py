"""/readyz names what is not ready; the write limit counts in a shared cache (Redis, with REDIS_URL)."""

from __future__ import annotations

import logging
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.db.utils import OperationalError

from config import health
from config.api.throttles import WriteRateThrottle
from tests.factories import issue_factory, order_with_items
from tests.orders.test_settings_startup import settings_value
from tests.redis_helpers import require_redis

pytestmark = pytest.mark.django_db

TEST_REDIS = "redis://127.0.0.1:6379/3"
UNREACHABLE_REDIS = "redis://127.0.0.1:18199/3"  # a closed port


def redis_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "backoffice-test",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


@pytest.fixture
def shared_redis(settings):
    require_redis(TEST_REDIS, "the shared cache is not tested")
    settings.CACHES = redis_cache(TEST_REDIS)
    cache.clear()
    yield TEST_REDIS
    cache.clear()


@pytest.fixture
def _fresh_migrations_check(monkeypatch):
    monkeypatch.setattr(health, "_migrated", False)


# ----------------------------------------------------------------------------- /readyz


@pytest.mark.usefixtures("_fresh_migrations_check")
def test_readyz_is_200_naming_every_check(client):
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ready",
        "checks": {"database": "ok", "cache": "ok", "tasks": "ok", "migrations": "ok"},
    }


def test_readyz_is_503_naming_the_cache_and_the_queue_when_redis_is_unreachable(client, settings, caplog):
    settings.CACHES = redis_cache(UNREACHABLE_REDIS)
    settings.RQ_QUEUES = {"default": {"URL": UNREACHABLE_REDIS, "DEFAULT_TIMEOUT": 5}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    with caplog.at_level(logging.ERROR, logger="config.health"):
        r = client.get("/readyz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "unavailable"
    assert body["failed"] == ["cache", "tasks"]
    assert body["checks"]["database"] == "ok"
    assert b"18199" not in r.content  # no address, no error text
    assert "readyz: cache check failed" in caplog.text


def test_readyz_is_503_naming_the_database(client):
    with mock.patch.object(health, "check_database", side_effect=OperationalError("password=secret at 10.0.0.5")):
        with mock.patch.dict(health.CHECKS, {"database": health.check_database}):
            r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["failed"] == ["database"]
    assert b"10.0.0.5" not in r.content
    assert b"secret" not in r.content


@pytest.mark.usefixtures("_fresh_migrations_check")
def test_readyz_is_503_while_a_migration_is_not_applied(client):
    with mock.patch("django.db.migrations.executor.MigrationExecutor.migration_plan", return_value=[("x", False)]):
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["failed"] == ["migrations"]
    assert client.get("/readyz").status_code == 200  # applied now: ready


def test_readyz_answers_get_only(client):
    assert client.post("/readyz").status_code == 405


def test_healthz_stays_cheap_whatever_redis_does(client, settings, django_assert_max_num_queries):
    settings.CACHES = redis_cache(UNREACHABLE_REDIS)
    with django_assert_max_num_queries(1):
        r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


# ----------------------------------------------------------------------------- the shared write limit


@pytest.fixture
def two_writes_a_minute(monkeypatch):
    monkeypatch.setattr(WriteRateThrottle, "THROTTLE_RATES", {"writes": "2/min"})


def patch_issue(api, agent, issue):
    url = f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}"
    return api(agent).patch(url, {"notes": "Called the customer", "updated_by": agent.username}, format="json")


@pytest.mark.usefixtures("two_writes_a_minute")
def test_the_write_limit_counts_in_redis_where_every_node_sees_it(shared_redis, api, agent):
    from django.core.cache.backends.redis import RedisCache

    issue = issue_factory(order_with_items(unit_price=Decimal("20.00")), actor=agent, assigned_to=agent)
    assert patch_issue(api, agent, issue).status_code == 200
    assert patch_issue(api, agent, issue).status_code == 200
    r = patch_issue(api, agent, issue)
    assert r.status_code == 429
    assert r.json()["error_code"] == "RATE_LIMITED"
    assert 1 <= int(r["Retry-After"]) <= 60
    # another node: its own client on the same Redis reads the same count
    other_node = RedisCache(shared_redis, {"KEY_PREFIX": "backoffice-test"})
    keys = [k for k in other_node._cache.get_client().keys("*") if b"throttle_writes_user" in k]
    assert len(keys) == 1
    assert int(other_node._cache.get_client().get(keys[0])) == 3


@pytest.mark.usefixtures("two_writes_a_minute")
def test_a_write_goes_through_when_the_cache_is_down(settings, api, agent, caplog):
    settings.CACHES = redis_cache(UNREACHABLE_REDIS)
    issue = issue_factory(order_with_items(), actor=agent, assigned_to=agent)
    with caplog.at_level(logging.WARNING, logger="config.api.throttles"):
        statuses = [patch_issue(api, agent, issue).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert "the cache did not answer" in caplog.text


def test_caches_come_from_redis_url_when_it_is_set():
    code = "*(getattr(settings, 'CACHES', {}).get('default', {}).get('BACKEND'), settings.RQ_QUEUES['default']['URL'])"
    assert settings_value(code, unset=("REDIS_URL",)) == "None redis://127.0.0.1:6379/0"
    assert settings_value(code, REDIS_URL="redis://cache.internal:6379/1") == (
        "django.core.cache.backends.redis.RedisCache redis://cache.internal:6379/1"
    )
