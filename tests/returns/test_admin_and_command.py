"""Returns in the admin (record form through the service, changelists) and the create_api_key command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orders.models import OrderStatus, Refund
from returns.models import AccountAPIKey, Return, ReturnReason
from tests.factories import order_with_items
from tests.returns.conftest import ACCOUNT

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, manager):
    client.force_login(manager)
    return client


def test_record_a_return_from_the_admin(staff_client, manager, django_capture_on_commit_callbacks):
    order = order_with_items(items=2, quantity=2, status=OrderStatus.COMPLETED)
    a, b = order.items.order_by("line_number")
    url = f"/admin/returns/return/record/{order.pk}/"
    assert staff_client.get(url).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            url,
            {
                "reason": ReturnReason.objects.get(code="2002").pk,
                "form_key": "k1",
                "message": "Dented",
                "refund": "on",
                f"qty_{a.pk}": "1",
                f"qty_{b.pk}": "0",
            },
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    ret = Return.objects.get()
    assert ret.created_by == manager
    assert ret.created_via == "admin"
    assert ret.refund_amount == 10
    assert Refund.objects.get().cause_id == ret.return_id
    order.refresh_from_db()
    assert order.status == OrderStatus.PARTIALLY_RETURNED


def test_admin_record_form_reports_service_refusals(staff_client):
    order = order_with_items(items=1, status=OrderStatus.PENDING)
    [a] = order.items.all()
    response = staff_client.post(
        f"/admin/returns/return/record/{order.pk}/",
        {"reason": ReturnReason.objects.get(code="2002").pk, f"qty_{a.pk}": "1", "form_key": "k1"},
    )
    assert response.status_code == 200
    assert "Items can be returned only from a completed order" in response.content.decode()
    assert not Return.objects.exists()


def test_admin_record_form_needs_a_quantity(staff_client):
    order = order_with_items(items=1, status=OrderStatus.COMPLETED)
    response = staff_client.post(
        f"/admin/returns/return/record/{order.pk}/",
        {"reason": ReturnReason.objects.get(code="2002").pk, "form_key": "k1"},
    )
    assert "Enter a quantity for at least one item." in response.content.decode()


def test_add_return_asks_for_the_order(staff_client):
    order = order_with_items(items=1, status=OrderStatus.COMPLETED)
    assert staff_client.get("/admin/returns/return/add/").status_code == 200
    response = staff_client.get(f"/admin/returns/return/add/?order={order.order_id}")
    assert response.status_code == 302
    assert response.url == f"/admin/returns/return/record/{order.pk}/"


@pytest.mark.parametrize("count", [1, 30])
def test_changelists_are_bounded(staff_client, manager, django_assert_max_num_queries, count):
    from returns.services import LineRequest, ReturnActor, order_return_lines

    for _ in range(count):
        order = order_with_items(items=1, status=OrderStatus.COMPLETED)
        order_return_lines(
            order_id=order.order_id,
            actor=ReturnActor.employee(manager),
            return_code="2001",
            lines=[LineRequest(str(order.items.get().order_item_id), 1)],
        )
    with django_assert_max_num_queries(12):
        assert staff_client.get("/admin/returns/return/").status_code == 200
    ret = Return.objects.first()
    assert staff_client.get(f"/admin/returns/return/{ret.pk}/change/").status_code == 200
    assert staff_client.get(f"/admin/returns/return/{ret.pk}/history/").status_code == 200
    assert staff_client.get("/admin/returns/returnreason/").status_code == 200
    assert staff_client.get("/admin/returns/accountapikey/").status_code in (200, 403)


def test_api_keys_in_the_admin(admin_client):
    response = admin_client.post("/admin/returns/accountapikey/add/", {"name": "pos", "account": ACCOUNT}, follow=True)
    assert response.status_code == 200
    key = AccountAPIKey.objects.get(name="pos")
    assert key.account == ACCOUNT
    assert "The API key for pos is" in response.content.decode()


def test_create_api_key_prints_the_key_alone_on_the_last_line():
    out, err = StringIO(), StringIO()
    call_command("create_api_key", "storefront", "--account", ACCOUNT, stdout=out, stderr=err)
    key = out.getvalue().strip().splitlines()[-1]
    api_key = AccountAPIKey.objects.get_from_key(key)
    assert api_key.name == "storefront"
    assert api_key.account == ACCOUNT
    assert "storefront" in err.getvalue()


@pytest.mark.parametrize(("name", "account"), [("x", "short"), ("", ACCOUNT), ("y" * 51, ACCOUNT)])
def test_create_api_key_refuses_bad_input(name, account):
    with pytest.raises(CommandError):
        call_command("create_api_key", name, "--account", account, stdout=StringIO(), stderr=StringIO())
    assert not AccountAPIKey.objects.exists()
