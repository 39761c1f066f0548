"""Webhook subscriptions belong to an account and an owner.

``account`` is a 24-character account id known to the system; a service account subscribes only to the accounts it
was granted and sees and changes only its own subscriptions (any other answers 404, like an unknown id, and nothing
changes); managers see and change all of them; the admin hands a subscription to a service account.
"""

import pytest
from django.conf import settings
from django.test import Client

from config.errors import NotFound
from config.people import employee_upsert
from returns.models import AccountAPIKey
from tests.factories import OrderFactory, employee
from webhooks import services
from webhooks.models import Delivery, OutboxEvent, Subscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
ACCOUNT_A = settings.DEFAULT_ACCOUNT_ID
ACCOUNT_B = "bbbbbbbbbbbbbbbbbbbbbbbb"
ACCOUNT_C = "cccccccccccccccccccccccc"  # well-formed, known to nobody
ATTACKER_URL = "https://attacker.example.net/steal"


def grant(user, *accounts):
    employee_upsert(employee_id=user.username, role="service", accounts=list(accounts))
    return user


@pytest.fixture
def known_b(db):
    OrderFactory(account=ACCOUNT_B)  # an order makes ACCOUNT_B known to the system
    return ACCOUNT_B


@pytest.fixture
def svc_a(db):
    return grant(employee("svc_alpha", "service"), ACCOUNT_A)


@pytest.fixture
def svc_a2(db):
    """Another service account granted the same account: another owner."""
    return grant(employee("svc_alpha_two", "service"), ACCOUNT_A)


@pytest.fixture
def svc_b(db, known_b):
    return grant(employee("svc_beta", "service"), known_b)


def create(api, user, account, url="https://hooks.example.com/in", **kw):
    response = api(user).post(URL, {"url": url, "account": account, "event_types": [], **kw}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def snapshot(subscription_id: str) -> dict:
    sub = Subscription.objects.get(subscription_id=subscription_id)
    return {
        "url": sub.url,
        "secret": sub.secret,
        "previous_secret": sub.previous_secret,
        "previous_secret_expires_at": sub.previous_secret_expires_at,
        "account": sub.account,
        "active": sub.active,
        "event_types": sub.event_types,
        "description": sub.description,
        "owner": sub.owner_id,
        "updated_at": sub.updated_at,
        "history": sub.history.count(),
        "deliveries": Delivery.objects.filter(subscription=sub).count(),
    }


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert body["error_code"] == code
    assert body["message"]
    return body


def assert_not_found(response, subscription_id: str) -> None:
    body = assert_error(response, 404, "NOT_FOUND")
    assert body == {
        "success": False,
        "error_code": "NOT_FOUND",
        "message": "Webhook subscription not found",
        "subscription_id": subscription_id,
    }


def assert_validation(response, field: str, error_starts: str) -> None:
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert [e["field"] for e in body["validation_errors"]] == [field]
    assert body["validation_errors"][0]["error"].startswith(error_starts), body


# --------------------------------------------------------------------------- seeing and changing others'


OPERATIONS = {
    "get": lambda c, sid: c.get(f"{URL}{sid}"),
    "patch url": lambda c, sid: c.patch(f"{URL}{sid}", {"url": ATTACKER_URL}, format="json"),
    "patch account": lambda c, sid: c.patch(f"{URL}{sid}", {"account": ACCOUNT_A}, format="json"),
    "patch active": lambda c, sid: c.patch(f"{URL}{sid}", {"active": False}, format="json"),
    "patch bad body": lambda c, sid: c.patch(f"{URL}{sid}", {"url": "not a url"}, format="json"),
    "rotate": lambda c, sid: c.post(f"{URL}{sid}/rotate-secret", {"grace_hours": 0}, format="json"),
    "delete": lambda c, sid: c.delete(f"{URL}{sid}"),
    "send test": lambda c, sid: c.post(f"{URL}{sid}/test"),
    "deliveries": lambda c, sid: c.get(f"{URL}{sid}/deliveries"),
}


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("whose", ["another account's", "another owner's", "a manager's"])
def test_a_service_account_cannot_reach_a_subscription_it_does_not_own(
    api, manager, svc_a, svc_a2, svc_b, whose, operation
):
    owner, account = {
        "another account's": (svc_b, ACCOUNT_B),
        "another owner's": (svc_a2, ACCOUNT_A),
        "a manager's": (manager, ACCOUNT_A),
    }[whose]
    theirs = create(api, owner, account)["subscription_id"]
    services.subscription_send_test(actor=owner, subscription=Subscription.objects.get(subscription_id=theirs))
    before, events = snapshot(theirs), OutboxEvent.objects.count()

    response = OPERATIONS[operation](api(svc_a), theirs)

    assert_not_found(response, theirs)
    # exactly what an unknown id answers: its existence is not revealed
    unknown = OPERATIONS[operation](api(svc_a), "whsub_doesnotexist")
    assert_not_found(unknown, "whsub_doesnotexist")
    assert snapshot(theirs) == before
    assert OutboxEvent.objects.count() == events
    assert "whsec_" not in response.content.decode()


def test_a_service_account_lists_only_its_own_and_a_manager_lists_all(api, manager, svc_a, svc_a2, svc_b):
    mine = create(api, svc_a, ACCOUNT_A)["subscription_id"]
    same_account = create(api, svc_a2, ACCOUNT_A)["subscription_id"]
    other_account = create(api, svc_b, ACCOUNT_B)["subscription_id"]
    managers = create(api, manager, ACCOUNT_A)["subscription_id"]

    listed = api(svc_a).get(URL)
    assert listed.status_code == 200
    assert [(s["subscription_id"], s["owner"]) for s in listed.json()["results"]] == [(mine, "svc_alpha")]
    assert [s["subscription_id"] for s in api(svc_b).get(URL).json()["results"]] == [other_account]

    everything = api(manager).get(URL).json()["results"]
    assert [(s["subscription_id"], s["owner"]) for s in everything] == [
        (mine, "svc_alpha"),
        (same_account, "svc_alpha_two"),
        (other_account, "svc_beta"),
        (managers, "emp_mgr_001"),
    ]


def test_the_re_point_attack_of_the_issue_is_refused(api, svc_a, svc_b):
    """Another account's service account re-points a subscription to itself and takes its secret: refused."""
    victim = create(api, svc_a, ACCOUNT_A, url="https://merchant-a.example.com/hooks")
    before = snapshot(victim["subscription_id"])
    attacker = api(svc_b)

    assert_not_found(
        attacker.patch(f"{URL}{victim['subscription_id']}", {"url": ATTACKER_URL}, format="json"),
        victim["subscription_id"],
    )
    assert_not_found(attacker.post(f"{URL}{victim['subscription_id']}/rotate-secret"), victim["subscription_id"])
    assert attacker.get(URL).json()["results"] == []
    assert snapshot(victim["subscription_id"]) == before
    assert Subscription.objects.get(subscription_id=victim["subscription_id"]).secret == victim["secret"]

    # nor can it subscribe to that account, or move its own subscription there
    refused = attacker.post(URL, {"url": ATTACKER_URL, "account": ACCOUNT_A}, format="json")
    body = assert_error(refused, 403, "PERMISSION_DENIED")
    assert body["field"] == "account"
    own = create(api, svc_b, ACCOUNT_B, url=ATTACKER_URL)["subscription_id"]
    own_before = snapshot(own)
    moved = attacker.patch(f"{URL}{own}", {"account": ACCOUNT_A, "url": ATTACKER_URL + "2"}, format="json")
    body = assert_error(moved, 403, "PERMISSION_DENIED")
    assert body["field"] == "account"
    assert "svc_beta is not granted account 5e3598e3007c5e00080d2bb8" in body["message"]
    assert snapshot(own) == own_before
    assert Subscription.objects.filter(account=ACCOUNT_A).count() == 1


# --------------------------------------------------------------------------- accounts


def test_a_service_account_cannot_subscribe_to_an_account_it_was_not_granted(api, svc_a, known_b):
    response = api(svc_a).post(URL, {"url": "https://hooks.example.com/x", "account": known_b}, format="json")
    body = assert_error(response, 403, "PERMISSION_DENIED")
    assert body["field"] == "account"
    assert body["message"] == f"svc_alpha is not granted account {known_b}; it may manage: {ACCOUNT_A}"
    assert not Subscription.objects.exists()


def test_a_service_account_without_grants_subscribes_to_nothing(api, service):
    response = api(service).post(URL, {"url": "https://hooks.example.com/x", "account": ACCOUNT_A}, format="json")
    body = assert_error(response, 403, "PERMISSION_DENIED")
    assert body["message"].endswith("it may manage: no account")
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("account", "error"),
    [
        ("0", "Must be a 24-character account id"),
        ("5e3598e3007c5e00080d2bb", "Must be a 24-character account id"),  # 23 characters
        ("5e3598e3007c5e00080d2bb-", "Must be a 24-character account id"),
        (ACCOUNT_C, f"Unknown account {ACCOUNT_C}"),
    ],
)
def test_create_needs_a_known_well_formed_account(api, manager, account, error):
    response = api(manager).post(URL, {"url": "https://hooks.example.com/x", "account": account}, format="json")
    assert_validation(response, "account", error)
    assert not Subscription.objects.exists()


def test_a_granted_but_unknown_account_is_a_validation_error(api):
    svc = grant(employee("svc_gamma", "service"), ACCOUNT_C)
    response = api(svc).post(URL, {"url": "https://hooks.example.com/x", "account": ACCOUNT_C}, format="json")
    assert_validation(response, "account", f"Unknown account {ACCOUNT_C}")
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("account", "error"), [("0", "Must be a 24-character account id"), (ACCOUNT_C, "Unknown account")]
)
def test_patch_needs_a_known_well_formed_account(api, manager, account, error):
    sid = create(api, manager, ACCOUNT_A)["subscription_id"]
    before = snapshot(sid)
    assert_validation(api(manager).patch(f"{URL}{sid}", {"account": account}, format="json"), "account", error)
    assert snapshot(sid) == before


def test_accounts_known_to_the_system():
    assert services.account_known(settings.DEFAULT_ACCOUNT_ID)
    assert not services.account_known(ACCOUNT_B)
    OrderFactory(account=ACCOUNT_B)
    assert services.account_known(ACCOUNT_B)
    assert not services.account_known(ACCOUNT_C)
    AccountAPIKey.objects.create_key(name="storefront C", account=ACCOUNT_C)
    assert services.account_known(ACCOUNT_C)


# --------------------------------------------------------------------------- what is allowed


def test_a_granted_service_account_manages_its_own(api, svc_a, known_b):
    grant(svc_a, ACCOUNT_A, known_b)
    client = api(svc_a)
    created = create(api, svc_a, ACCOUNT_A)
    sid = created["subscription_id"]
    assert created["owner"] == "svc_alpha"
    sub = Subscription.objects.get(subscription_id=sid)
    assert (sub.owner, sub.created_by) == (svc_a, svc_a)

    assert client.get(f"{URL}{sid}").json()["owner"] == "svc_alpha"
    patched = client.patch(f"{URL}{sid}", {"url": "https://hooks.example.com/moved", "account": known_b}, format="json")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["url"], patched.json()["account"]) == ("https://hooks.example.com/moved", known_b)
    rotated = client.post(f"{URL}{sid}/rotate-secret", {"grace_hours": 1}, format="json")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != created["secret"]
    assert client.post(f"{URL}{sid}/test").status_code == 202
    assert [d["event_type"] for d in client.get(f"{URL}{sid}/deliveries").json()["results"]] == ["webhook.test"]
    assert client.delete(f"{URL}{sid}").status_code == 204
    assert not Subscription.objects.exists()


def test_the_owner_is_not_changed_through_the_api(api, svc_a, manager):
    sid = create(api, svc_a, ACCOUNT_A)["subscription_id"]
    before = snapshot(sid)
    for user in (svc_a, manager):
        response = api(user).patch(f"{URL}{sid}", {"owner": "svc_alpha_two"}, format="json")
        assert_validation(response, "owner", "Unknown field")
    assert snapshot(sid) == before


def test_a_manager_owns_what_it_creates_and_changes_any(api, manager, svc_a, svc_b):
    mine = create(api, manager, ACCOUNT_A)
    assert mine["owner"] == "emp_mgr_001"
    theirs = create(api, svc_b, ACCOUNT_B)["subscription_id"]
    client = api(manager)
    assert client.get(f"{URL}{theirs}").status_code == 200
    patched = client.patch(f"{URL}{theirs}", {"url": "https://hooks.example.com/fixed", "active": False}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["owner"] == "svc_beta"  # still svc_beta's
    assert client.post(f"{URL}{theirs}/rotate-secret").status_code == 200
    assert client.post(f"{URL}{theirs}/test").status_code == 202
    assert client.get(f"{URL}{theirs}/deliveries").status_code == 200
    sub = Subscription.objects.get(subscription_id=theirs)
    assert (sub.url, sub.active, sub.owner) == ("https://hooks.example.com/fixed", False, svc_b)


def test_a_manager_cannot_move_a_service_accounts_subscription_out_of_its_grants(api, manager, svc_b):
    sid = create(api, svc_b, ACCOUNT_B)["subscription_id"]
    before = snapshot(sid)
    response = api(manager).patch(f"{URL}{sid}", {"account": ACCOUNT_A}, format="json")
    assert_validation(response, "account", "Its owner svc_beta is not granted account")
    assert snapshot(sid) == before


def test_on_behalf_actors_and_agents_see_nothing(manager, svc_a, api):
    """The services check too: an actor carrying ``acting_via`` is neither a manager nor the owner."""
    from config.people import on_behalf

    sub = services.subscription_create(actor=svc_a, url="https://hooks.example.com/x", account=ACCOUNT_A).subscription
    acting = on_behalf(manager, via=svc_a)
    assert not services.subscriptions_visible_to(acting).exists()
    with pytest.raises(NotFound):
        services.subscription_rotate_secret(actor=acting, subscription=sub)
    agent = employee("emp_cs_009", "agent")
    assert not services.subscriptions_visible_to(agent).exists()
    with pytest.raises(NotFound):
        services.subscription_update(actor=agent, subscription=sub, changes={"url": ATTACKER_URL})
    assert Subscription.objects.get(pk=sub.pk).url == "https://hooks.example.com/x"


# --------------------------------------------------------------------------- the admin


@pytest.fixture
def manager_client(manager):
    client = Client()
    client.force_login(manager)
    return client


ADD = "/admin/webhooks/subscription/add/"


def form(**kw):
    return {"url": "https://hooks.example.com/x", "account": ACCOUNT_A, "event_types": "[]", "active": "on", **kw}


@pytest.mark.parametrize(
    ("account", "error"), [("0", "Must be a 24-character account id"), (ACCOUNT_C, "Unknown account")]
)
def test_admin_refuses_a_malformed_or_unknown_account(manager_client, account, error):
    response = manager_client.post(ADD, form(account=account))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["account"][0].startswith(error)
    assert not Subscription.objects.exists()


def test_admin_add_is_owned_by_the_manager_and_hands_over_to_a_granted_service_account(
    api, manager, manager_client, svc_a, svc_b
):
    assert manager_client.get(ADD).context["adminform"].form["owner"].value() == manager.pk
    manager_client.post(ADD, form(), follow=True)  # no owner sent: the manager who adds it
    sub = Subscription.objects.get()
    assert sub.owner == manager
    assert_not_found(api(svc_a).get(f"{URL}{sub.subscription_id}"), sub.subscription_id)

    change = f"/admin/webhooks/subscription/{sub.pk}/change/"
    refused = manager_client.post(change, form(owner=svc_b.pk))  # svc_beta is not granted ACCOUNT_A
    assert "svc_beta is not granted account" in refused.context["adminform"].form.errors["owner"][0]
    assert Subscription.objects.get().owner == manager

    manager_client.post(change, form(owner=svc_a.pk), follow=True)
    assert Subscription.objects.get().owner == svc_a
    assert api(svc_a).get(f"{URL}{sub.subscription_id}").json()["owner"] == "svc_alpha"

    listed = manager_client.get("/admin/webhooks/subscription/").content.decode()
    assert "svc_alpha" in listed
    filtered = manager_client.get(f"/admin/webhooks/subscription/?owner__id__exact={svc_a.pk}")
    assert filtered.status_code == 200
    assert sub.subscription_id in filtered.content.decode()


def test_admin_owner_choices_are_active_managers_and_service_accounts(manager_client, manager, svc_a, agent):
    choices = manager_client.get(ADD).context["adminform"].form.fields["owner"].queryset
    assert set(choices) == {manager, svc_a}
    response = manager_client.post(ADD, form(owner=agent.pk))
    assert "owner" in response.context["adminform"].form.errors
    assert not Subscription.objects.exists()


def test_admin_keeps_a_deactivated_owner_for_other_changes_but_not_for_a_new_account(
    api, manager_client, svc_a, known_b
):
    sid = create(api, svc_a, ACCOUNT_A)["subscription_id"]
    sub = Subscription.objects.get(subscription_id=sid)
    type(svc_a).objects.filter(pk=svc_a.pk).update(is_active=False)
    change = f"/admin/webhooks/subscription/{sub.pk}/change/"
    manager_client.post(change, form(owner=svc_a.pk, description="Still svc_alpha's"), follow=True)
    sub.refresh_from_db()
    assert (sub.description, sub.owner) == ("Still svc_alpha's", svc_a)
    refused = manager_client.post(change, form(owner=svc_a.pk, account=known_b))
    assert "is not an active manager or service account" in refused.context["adminform"].form.errors["owner"][0]
    assert Subscription.objects.get(pk=sub.pk).account == ACCOUNT_A


@pytest.mark.parametrize("rows", [1, 30])
def test_a_service_accounts_list_query_count_is_fixed(api, svc_a, svc_a2, rows, django_assert_num_queries):
    for _ in range(rows):
        Subscription.objects.create(url="https://hooks.example.com/x", account=ACCOUNT_A, owner=svc_a)
        Subscription.objects.create(url="https://hooks.example.com/y", account=ACCOUNT_A, owner=svc_a2)
    client = api(svc_a)
    with django_assert_num_queries(6):  # token+user, groups (role), the permissions (one query), its grant, count, page
        listed = client.get(URL)
    assert listed.json()["count"] == rows
    assert {s["owner"] for s in listed.json()["results"]} == {"svc_alpha"}


def test_revoking_a_grant_hides_the_subscriptions_and_stops_their_events(
    api, svc_a, django_capture_on_commit_callbacks
):
    from config.people import employee_upsert
    from webhooks.models import Delivery, OutboxEvent
    from webhooks.services import outbox_dispatch

    sub = Subscription.objects.create(url="https://hooks.example.com/x", account=ACCOUNT_A, owner=svc_a)
    employee_upsert(employee_id=svc_a.username, role="service", accounts=[])  # the grant is revoked
    client = api(svc_a)
    assert client.get(URL).json()["count"] == 0
    assert client.get(f"{URL}{sub.subscription_id}").status_code == 404
    event = OutboxEvent.objects.create(type="order.cancelled", account=ACCOUNT_A, order_key="o1", body="{}")
    with django_capture_on_commit_callbacks(execute=False):
        outbox_dispatch()
    assert not Delivery.objects.filter(event=event, subscription=sub).exists()
    employee_upsert(employee_id=svc_a.username, role="service", accounts=[ACCOUNT_A])  # granted again
    again = OutboxEvent.objects.create(type="order.cancelled", account=ACCOUNT_A, order_key="o1", body="{}")
    with django_capture_on_commit_callbacks(execute=False):
        outbox_dispatch()
    assert Delivery.objects.filter(event=again, subscription=sub).exists()
