"""The admin: subscriptions (secret shown once, test event, failing filter), the delivery log (send again)."""

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import order_with_items
from tests.webhooks.conftest import drain
from webhooks.models import Delivery, DeliveryStatus, OutboxEvent, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client


def test_add_shows_the_secret_once(manager_client):
    response = manager_client.post(
        "/admin/webhooks/subscription/add/",
        {
            "url": "https://hooks.example.com/x",
            "account": settings.DEFAULT_ACCOUNT_ID,
            "event_types": "[]",
            "active": "on",
        },
        follow=True,
    )
    assert response.status_code == 200
    sub = Subscription.objects.get()
    assert sub.secret in response.content.decode()
    page = manager_client.get(f"/admin/webhooks/subscription/{sub.pk}/change/").content.decode()
    assert sub.secret not in page


def test_add_refuses_a_private_url(manager_client):
    response = manager_client.post(
        "/admin/webhooks/subscription/add/",
        {"url": "https://192.168.0.4/x", "account": settings.DEFAULT_ACCOUNT_ID, "event_types": "[]"},
    )
    assert response.status_code == 200
    assert "private" in response.content.decode()
    assert not Subscription.objects.exists()


def test_agents_cannot_see_webhooks(agent):
    client = Client()
    client.force_login(agent)
    assert client.get("/admin/webhooks/subscription/").status_code == 403


def test_send_test_event_send_again_and_the_log(manager_client, receiver, subscribe):
    sub = subscribe()
    response = manager_client.post(
        "/admin/webhooks/subscription/", {"action": "send_test_event", "_selected_action": [sub.pk]}, follow=True
    )
    assert response.status_code == 200
    drain()
    delivery = Delivery.objects.get()
    assert receiver.types == ["webhook.test"]
    manager_client.post("/admin/webhooks/delivery/", {"action": "send_again", "_selected_action": [delivery.pk]})
    drain()
    assert receiver.ids == [delivery.event.event_id] * 2
    page = manager_client.get(f"/admin/webhooks/delivery/{delivery.pk}/change/").content.decode()
    assert "latency" in page.lower()
    assert '{"ok": true}' in page.replace("&quot;", '"')


@pytest.mark.parametrize("rows", [1, 30])
def test_delivery_log_and_failing_filter_are_bounded(manager_client, manager, rows, django_assert_max_num_queries):
    from issues.services import issue_create

    healthy = Subscription.objects.create(url="https://a.example.com/x", account=settings.DEFAULT_ACCOUNT_ID)
    failing = Subscription.objects.create(
        url="https://b.example.com/x", account=settings.DEFAULT_ACCOUNT_ID, consecutive_failures=2
    )
    order = order_with_items()
    for n in range(rows):
        issue_create(order_id=order.order_id, actor=manager, data={"issue_type": "wrong_item", "title": f"#{n}"})
    from webhooks.services import outbox_dispatch

    outbox_dispatch()
    assert Delivery.objects.filter(status=DeliveryStatus.PENDING).count() == 2 * rows
    with django_assert_max_num_queries(12):
        assert manager_client.get("/admin/webhooks/delivery/").status_code == 200
    with django_assert_max_num_queries(12):
        page = manager_client.get("/admin/webhooks/subscription/?health=failing")
    assert failing.subscription_id in page.content.decode()
    assert healthy.subscription_id not in page.content.decode()
    with django_assert_max_num_queries(12):
        assert manager_client.get("/admin/webhooks/outboxevent/").status_code == 200
    assert OutboxEvent.objects.count() == rows
