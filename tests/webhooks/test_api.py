"""/api/v1/webhooks/: managers and service accounts; the secret is shown once; rotation; test events."""

import pytest
from django.conf import settings

from config.people import employee_upsert
from webhooks.models import Delivery, Subscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def body(**kw):
    return {
        "url": "https://hooks.example.com/backoffice",
        "account": settings.DEFAULT_ACCOUNT_ID,
        "event_types": ["issue.created", "refund.created"],
        **kw,
    }


def test_manager_creates_and_sees_the_secret_once(api, manager):
    client = api(manager)
    created = client.post(URL, body(), format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert data["secret"].startswith("whsec_")
    assert data["event_types"] == ["issue.created", "refund.created"]
    assert data["active"] is True
    sub = Subscription.objects.get()
    assert sub.secret == data["secret"]
    detail = client.get(f"{URL}{data['subscription_id']}")
    assert detail.status_code == 200
    assert "secret" not in detail.json()
    listed = client.get(URL).json()
    assert "whsec_" not in str(listed)
    assert [s["subscription_id"] for s in listed["results"]] == [data["subscription_id"]]


def test_service_account_may_subscribe(api, service):
    """To an account it was granted (without the grant: 403, tests/webhooks/test_subscription_scope.py); it owns it."""
    employee_upsert(employee_id=service.username, role="service", accounts=[settings.DEFAULT_ACCOUNT_ID])
    created = api(service).post(URL, body(), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["owner"] == service.username
    assert Subscription.objects.get().owner == service


def test_agents_and_anonymous_are_refused(api, agent):
    assert api(agent).post(URL, body(), format="json").status_code == 403
    assert api(agent).get(URL).status_code == 403
    assert api(None).get(URL).status_code == 401


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"url": "http://hooks.example.com/x"}, "url"),
        ({"url": "https://10.0.0.1/x"}, "url"),
        ({"url": "https://127.0.0.1/x"}, "url"),
        ({"event_types": ["nope.happened"]}, "event_types"),
        ({"secret": "mine"}, "secret"),
    ],
)
def test_refused_bodies(api, manager, override, field, settings):
    settings.WEBHOOKS_ALLOW_INSECURE = False
    response = api(manager).post(URL, body(**override), format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["success"] is False
    assert field in str(payload)
    assert not Subscription.objects.exists()


def test_rotate_keeps_the_old_secret_for_the_grace_period(api, manager):
    client = api(manager)
    first = client.post(URL, body(), format="json").json()
    rotated = client.post(f"{URL}{first['subscription_id']}/rotate-secret", {"grace_hours": 2}, format="json")
    assert rotated.status_code == 200, rotated.content
    new = rotated.json()["secret"]
    assert new != first["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    sub = Subscription.objects.get()
    assert sub.signing_secrets() == [new, first["secret"]]


def test_update_delete_and_deliveries(api, manager):
    client = api(manager)
    sub_id = client.post(URL, body(), format="json").json()["subscription_id"]
    patched = client.patch(f"{URL}{sub_id}", {"event_types": [], "active": False}, format="json")
    assert patched.status_code == 200
    assert patched.json()["event_types"] == []
    assert patched.json()["active"] is False
    test = client.post(f"{URL}{sub_id}/test")
    assert test.status_code == 202
    assert test.json()["event_type"] == "webhook.test"
    deliveries = client.get(f"{URL}{sub_id}/deliveries").json()
    assert [d["event_type"] for d in deliveries["results"]] == ["webhook.test"]
    assert client.delete(f"{URL}{sub_id}").status_code == 204
    assert client.get(f"{URL}{sub_id}").status_code == 404
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("rows", [1, 30])
def test_list_query_count_is_fixed(api, manager, rows, django_assert_num_queries):
    for _ in range(rows):
        Subscription.objects.create(url="https://hooks.example.com/x", account="a")
    client = api(manager)
    with django_assert_num_queries(4):  # token+user, groups (role), count, page
        assert client.get(URL).status_code == 200
