"""The read replica router (config/db_router.py): marked reads go to the replica; writes, and reads inside a
write's transaction, stay on the primary; without DATABASE_REPLICA_URL everything is the primary."""

from __future__ import annotations

import pytest
from django.db import transaction

from config import db_router
from config.db_router import ReplicaRouter, reads_from_replica
from orders.models import Order
from tests.orders.test_settings_startup import settings_value

router = ReplicaRouter()


@pytest.fixture
def with_replica(settings):
    settings.DATABASES = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}


@pytest.fixture
def outside_a_transaction(monkeypatch):
    """The test runs inside a transaction; the router's check is what a request sees outside one."""
    monkeypatch.setattr(db_router, "connections", {"default": type("C", (), {"in_atomic_block": False})()})


@pytest.mark.usefixtures("with_replica", "outside_a_transaction")
def test_marked_reads_go_to_the_replica_and_writes_never_do():
    assert router.db_for_read(Order) == "default"
    with reads_from_replica():
        assert router.db_for_read(Order) == "replica"
        assert router.db_for_write(Order) == "default"
    assert router.db_for_read(Order) == "default"  # the mark ends with the block


@pytest.mark.django_db
@pytest.mark.usefixtures("with_replica")
def test_reads_inside_a_write_transaction_stay_on_the_primary():
    with transaction.atomic(), reads_from_replica():
        assert router.db_for_read(Order) == "default"


@pytest.mark.usefixtures("outside_a_transaction")
def test_without_a_replica_every_read_is_the_primary():
    with reads_from_replica():
        assert router.db_for_read(Order) == "default"


def test_only_the_primary_is_migrated():
    assert router.allow_migrate("default", "orders") is True
    assert router.allow_migrate("replica", "orders") is False


@pytest.mark.usefixtures("with_replica")
def test_the_list_views_read_from_the_replica_after_authentication(api, agent, monkeypatch, db):
    """The order list's queries run under the mark; the token lookup before it does not."""
    marks = []
    real = router.db_for_read

    def spy(model, **hints):
        marks.append((model._meta.label, db_router._replica_reads.get()))
        return real(model, **hints)

    monkeypatch.setattr(ReplicaRouter, "db_for_read", lambda self, model, **hints: spy(model, **hints))
    monkeypatch.setattr("django.db.router.routers", [ReplicaRouter()])
    assert api(agent).get("/api/v1/orders").status_code == 200
    assert ("authtoken.Token", False) in marks
    assert ("orders.Order", True) in marks
    assert not db_router._replica_reads.get()  # reset when the response is finalized


@pytest.mark.usefixtures("with_replica")
def test_a_list_that_fails_leaves_the_next_request_on_the_primary(api, agent, monkeypatch, db):
    """An exception DRF re-raises (a 500) must not leave the mark on for the thread's next request."""
    from orders import selectors

    def broken():
        raise RuntimeError("the replica went away")

    monkeypatch.setattr(selectors, "order_list", broken)
    client = api(agent)
    client.raise_request_exception = False
    assert client.get("/api/v1/orders").status_code == 500
    assert not db_router._replica_reads.get()


def test_the_settings_add_the_replica_and_the_router_only_with_the_url():
    code = "*sorted(settings.DATABASES), getattr(settings, 'DATABASE_ROUTERS', [])"
    assert settings_value(code, unset=("DATABASE_REPLICA_URL",)) == "default []"
    url = "postgres://reader@replica.internal:5432/backoffice"
    assert settings_value(code, DATABASE_REPLICA_URL=url) == "default replica ['config.db_router.ReplicaRouter']"
    options = settings_value("settings.DATABASES['replica']['OPTIONS']", DATABASE_REPLICA_URL=url)
    assert "jit=off" in options
