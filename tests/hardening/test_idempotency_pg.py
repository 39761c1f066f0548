"""Two concurrent requests with one Idempotency-Key execute once (PostgreSQL: real row locks)."""

import time

import pytest

from config.models import IdempotencyKey
from orders.models import Refund
from tests.concurrency import run_concurrently
from tests.conftest import client_for
from tests.factories import employee, issue_factory, order_with_items

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def groups(transactional_db):
    """A transactional test flushes the tables, the groups' permissions included: grant them again."""
    from django.apps import apps

    from config.permissions import sync_groups

    sync_groups(apps)


def test_concurrent_requests_with_one_key_execute_once(monkeypatch):
    # given
    agent = employee("emp_cs_001", "agent")
    issue = issue_factory(order_with_items(status="completed"), actor=agent, assigned_to=agent)
    url = f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}"
    body = {"refund_amount": 5, "refund_source": "merchant", "notes": "Goodwill", "updated_by": agent.username}

    from issues.api import views

    real = views.services.issue_update_locked  # what the view calls, with the issue it locked
    calls = []

    def slow_update(**kwargs):
        calls.append(1)
        time.sleep(0.3)  # hold the key row's transaction open while the others arrive
        return real(**kwargs)

    monkeypatch.setattr(views.services, "issue_update_locked", slow_update)

    def call(client):
        r = client.patch(url, body, format="json", HTTP_IDEMPOTENCY_KEY="same-key")
        return r.status_code, r.content

    # when
    clients = [client_for(agent) for _ in range(4)]
    answers = run_concurrently(*[lambda c=c: call(c) for c in clients])

    # then
    assert len(calls) == 1
    assert Refund.objects.filter(order=issue.order).count() == 1
    assert {status for status, _ in answers} == {200}
    assert len({content for _, content in answers}) == 1
    assert IdempotencyKey.objects.count() == 1
