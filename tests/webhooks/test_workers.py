"""The real worker path, on both task backends: the database backend (``db_worker``) and RQ on Redis.

Committed changes (``transactional_db``) go through the outbox, the dispatch task and the delivery tasks to a
receiver on loopback. RQ tests skip, with the reason, when Redis is not reachable at 127.0.0.1:6379.
"""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import transaction

from issues.services import issue_create, issue_update
from tests.factories import order_with_items
from webhooks import services
from webhooks.models import Delivery, DeliveryStatus, OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/5"  # a database of its own


@pytest.fixture(autouse=True)
def _groups(transactional_db):
    """Transactional tests flush the tables: grant the groups' permissions again (as the data migrations do)."""
    from django.apps import apps

    from config.permissions import sync_groups

    sync_groups(apps)


def _rq_worker():
    import django_rq
    from django_tasks_rq.backend import Job
    from rq import SimpleWorker

    queue = django_rq.get_queue("default", job_class=Job)

    def run():
        SimpleWorker([queue], connection=queue.connection, job_class=Job).work(burst=True)

    return queue, run


@pytest.fixture(params=["db", "rq"])
def worker(request, settings):
    """``worker()`` runs the configured backend's worker until its queue is empty."""
    if request.param == "db":
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

        def run():
            call_command("db_worker", batch=True, startup_delay=False, interval=0.05, verbosity=0, reload=False)

        yield run
        return
    from tests.redis_helpers import require_redis

    require_redis(REDIS_URL, "the RQ backend is not tested")
    settings.RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    queue, run = _rq_worker()
    queue.connection.flushdb()
    yield run
    queue.connection.flushdb()


def new_issue(agent, order, title="Wrong item"):
    return issue_create(order_id=order.order_id, actor=agent, data={"issue_type": "wrong_item", "title": title})


def test_worker_delivers_every_event_of_an_order_in_order(worker, agent, receiver, subscribe):
    subscribe()
    order, other = order_with_items(), order_with_items()
    issue = new_issue(agent, order)
    new_issue(agent, other)
    for status in ("investigating", "in_progress"):
        issue_update(order_id=order.order_id, issue_id=issue.issue_id, actor=agent, changes={"status": status})

    worker()

    assert receiver.unverified == []
    expected = list(OutboxEvent.objects.filter(order_key=order.order_id).values_list("event_id", flat=True))
    assert [i for i in receiver.ids if i in expected] == expected
    assert len(receiver.received) == 4
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.DELIVERED}


def test_rolled_back_change_sends_nothing(worker, agent, receiver, subscribe):
    subscribe()
    order = order_with_items()

    def change_then_fail():
        with transaction.atomic():
            new_issue(agent, order)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        change_then_fail()
    worker()
    call_command("webhooks_dispatch", verbosity=0)
    worker()
    assert receiver.received == []
    assert not OutboxEvent.objects.exists()


def test_fails_three_times_then_succeeds(worker, agent, receiver, subscribe, settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.05
    subscribe()
    receiver.script = [500, 502, 504]
    new_issue(agent, order_with_items())
    worker()
    for _ in range(20):
        if Delivery.objects.filter(status=DeliveryStatus.DELIVERED).exists():
            break
        time.sleep(0.1)
        call_command("webhooks_dispatch", verbosity=0)  # the retries come due: hand them out
        worker()
    event = OutboxEvent.objects.get()
    assert receiver.ids == [event.event_id] * 4
    assert Delivery.objects.get().attempts == 4


def test_killed_worker_leads_to_a_redelivery(worker, agent, receiver, subscribe, settings):
    settings.WEBHOOKS_LEASE_SECONDS = 0  # the dead worker's lease runs out at once
    subscribe()
    new_issue(agent, order_with_items())

    # the worker sends, then dies before recording the delivery
    with mock.patch.object(services, "delivery_record", side_effect=RuntimeError("worker killed")):
        worker()
    assert len(receiver.received) == 1
    assert Delivery.objects.get().status == DeliveryStatus.PENDING

    call_command("webhooks_dispatch", verbosity=0)
    worker()
    event = OutboxEvent.objects.get()
    assert receiver.ids == [event.event_id] * 2
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
