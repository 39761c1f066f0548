"""One refund limit per employee on every money path (orders.refund_policy).

Issue refunds (API and admin form), order refunds in the admin, appeasements and return refunds count against
the employee's personal limit, else their role's, cumulatively per employee and order; over it the refund is
neither refused nor paid but waits for another manager's approval. With no limit, only what is still refundable
bounds a refund (seed 001).
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from config.people import employee_upsert
from issues.models import ApprovalRequest
from orders.models import Refund, RefundLimit
from orders.services import refund_limit_set, refund_record
from returns.models import Return
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def order(db):
    """Completed, 100.00 paid."""
    return order_with_items(items=2, unit_price=D("50.00"), status="completed")


def issue_url(issue) -> str:
    return f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}"


def refund(client, issue, amount, who="emp_cs_001", **extra):
    body = {"refund_amount": amount, "refund_source": "store_credit", "updated_by": who, **extra}
    return client.patch(issue_url(issue), body, format="json")


def own(order, employee) -> list[Decimal]:
    return sorted(Refund.objects.filter(order=order, requested_by=employee).values_list("amount", flat=True))


def test_splitting_a_refund_does_not_get_around_the_limit(api, agent, order):
    RefundLimit.objects.create(employee=agent, limit=D("10.00"))
    issue = issue_factory(order, actor=agent, status="in_progress")
    other_issue = issue_factory(order, actor=agent, status="in_progress")
    assert refund(api(agent), issue, 6).status_code == 200
    second = refund(api(agent), other_issue, 6)  # another issue of the same order: still this order's 10.00
    assert second.status_code == 202, second.content
    assert second.json()["message"].startswith("Refund of 6.00 USD requested (over the limit)")
    approval = ApprovalRequest.objects.get(approval_id=second.json()["approval_request_id"])
    assert approval.reason == (
        "Over the refund limit: 6.00 USD with 6.00 USD already refunded by emp_cs_001 on this order is over "
        "emp_cs_001's refund limit of 10.00 USD"
    )
    assert (approval.payload["limit"], approval.payload["used"]) == ("10.00", "6.00")
    assert own(order, agent) == [D("6.00")]
    duplicate = refund(api(agent), other_issue, 5)  # over again, while the first request waits: one at a time
    assert (duplicate.status_code, duplicate.json()["error_code"]) == (409, "DUPLICATE")
    assert duplicate.json()["approval_request_id"] == approval.approval_id
    assert refund(api(agent), other_issue, 4).status_code == 200  # within what is left (10.00 - 6.00)


def test_exactly_the_limit_is_within_it_and_another_order_has_its_own(api, agent, order):
    RefundLimit.objects.create(employee=agent, limit=D("10.00"))
    assert refund(api(agent), issue_factory(order, actor=agent), 10).status_code == 200
    other = order_with_items(items=1, unit_price=D("50.00"), status="completed")
    assert refund(api(agent), issue_factory(other, actor=agent), 10).status_code == 200


def test_the_roles_limit_applies_without_a_personal_one_and_a_personal_one_wins(api, agent, other_agent, order):
    RefundLimit.objects.create(role="agent", limit=D("10.00"))
    RefundLimit.objects.create(employee=other_agent, limit=D("50.00"))
    assert refund(api(agent), issue_factory(order, actor=agent), 12).status_code == 202
    assert refund(api(other_agent), issue_factory(order, actor=agent), 12, who="emp_cs_002").status_code == 200


def test_a_managers_role_limit_is_the_managers_not_the_agents(api, manager, order):
    """A manager is in the agents' group too: the agents' role limit is not theirs."""
    RefundLimit.objects.create(role="agent", limit=D("10.00"))
    RefundLimit.objects.create(role="manager", limit=D("30.00"))
    issue = issue_factory(order, actor=manager)
    assert refund(api(manager), issue, 25, who="emp_mgr_001").status_code == 200
    assert refund(api(manager), issue, 10, who="emp_mgr_001").status_code == 202


def test_over_a_managers_own_limit_another_manager_decides(api, manager, other_manager, order):
    RefundLimit.objects.create(employee=manager, limit=D("10.00"))
    r = refund(api(manager), issue_factory(order, actor=manager), 20, who="emp_mgr_001")
    assert r.status_code == 202, r.content
    approval_id = r.json()["approval_request_id"]
    mine = api(manager).post(f"/api/v1/approvals/{approval_id}/approve", {"note": "Me"}, format="json")
    assert mine.status_code == 403
    assert not Refund.objects.filter(order=order).exists()
    theirs = api(other_manager).post(f"/api/v1/approvals/{approval_id}/approve", {"note": "OK"}, format="json")
    assert theirs.status_code == 200, theirs.content
    [paid] = Refund.objects.filter(order=order)
    assert (paid.requested_by, paid.approved_by, paid.amount) == (manager, other_manager, D("20.00"))


def test_an_approved_refund_is_the_managers_authority_not_the_agents(api, agent, manager, order):
    RefundLimit.objects.create(employee=agent, limit=D("5.00"))
    issue = issue_factory(order, actor=agent)
    approval_id = refund(api(agent), issue, 40).json()["approval_request_id"]
    api(manager).post(f"/api/v1/approvals/{approval_id}/approve", {"note": "OK"}, format="json")
    assert refund(api(agent), issue, 5).status_code == 200  # their own 5.00 is still theirs to give


def test_a_failed_refund_frees_the_limit(api, agent, order):
    RefundLimit.objects.create(employee=agent, limit=D("5.00"))
    failed = refund_record(order=order, actor=agent, amount=D("5.00"), source="merchant")
    failed.start_processing()
    failed.mark_failed(reason="Card expired")
    failed.save()
    assert refund(api(agent), issue_factory(order, actor=agent), 5).status_code == 200


def test_what_can_never_be_paid_is_refused_not_requested(api, agent, order):
    RefundLimit.objects.create(employee=agent, limit=D("5.00"))
    r = refund(api(agent), issue_factory(order, actor=agent), 150)
    assert r.status_code == 422
    assert r.json()["error_code"] == "REFUND_PROCESSING_ERROR"
    assert not ApprovalRequest.objects.filter(kind="refund").exists()


def test_without_a_limit_only_the_refundable_bounds_a_refund(api, agent, order):
    assert refund(api(agent), issue_factory(order, actor=agent), 100).status_code == 200


def test_a_service_acting_for_an_agent_is_bound_by_the_agents_limit(api, agent, service, order):
    RefundLimit.objects.create(employee=agent, limit=D("5.00"))
    r = refund(api(service), issue_factory(order, actor=agent), 20)
    assert r.status_code == 202, r.content
    approval = ApprovalRequest.objects.get(approval_id=r.json()["approval_request_id"])
    assert approval.requested_by == agent
    assert approval.history.get().history_via == "svc_storefront"


def test_the_ledger_itself_refuses_an_employees_refund_over_their_limit(agent, order):
    """A path that forgot to ask for approval still cannot pay: refund_record checks the limit too."""
    from orders.errors import RefundProcessingError

    RefundLimit.objects.create(employee=agent, limit=D("5.00"))
    with pytest.raises(RefundProcessingError, match="refund limit of 5.00 USD: a manager must approve it"):
        refund_record(order=order, actor=agent, amount=D("6.00"), source="merchant")
    assert not Refund.objects.exists()


# --------------------------------------------------------------------------- the admin's forms


def test_the_admin_order_refund_form_over_the_limit_asks_a_manager(client, agent, manager, order):
    RefundLimit.objects.create(employee=manager, limit=D("10.00"))
    client.force_login(manager)
    url = reverse("admin:orders_order_refund", args=[order.pk])
    page = client.get(url).content.decode()
    assert 'id="refund-limit"' in page
    assert "10.00 USD</strong> left of 10.00" in page
    form_key = page.split('name="form_key" value="')[1].split('"')[0]
    r = client.post(
        url, {"amount": "25.00", "source": "merchant", "reason": "Damaged", "form_key": form_key}, follow=True
    )
    assert r.status_code == 200
    shown = [str(m) for m in r.context["messages"]]
    assert any("over your refund limit" in m and "waits for a manager" in m for m in shown), shown
    assert not Refund.objects.filter(order=order).exists()
    approval = ApprovalRequest.objects.get(kind="refund", target_type="order", target_id=order.order_id)
    assert approval.payload["amount"] == "25.00"


def test_the_admin_issue_refund_form_over_the_limit_asks_a_manager(client, agent, order):
    RefundLimit.objects.create(employee=agent, limit=D("10.00"))
    issue = issue_factory(order, actor=agent, status="in_progress")
    client.force_login(agent)
    url = reverse("admin:issues_orderissue_refund", args=[issue.pk])
    page = client.get(url).content.decode()
    form_key = page.split('name="form_key" value="')[1].split('"')[0]
    r = client.post(
        url, {"amount": "25.00", "source": "store_credit", "notes": "Sorry", "form_key": form_key}, follow=True
    )
    shown = [str(m) for m in r.context["messages"]]
    assert any("over your refund limit" in m for m in shown), shown
    assert not Refund.objects.filter(order=order).exists()
    assert ApprovalRequest.objects.filter(kind="refund", issue=issue, state="pending").count() == 1


# --------------------------------------------------------------------------- returns and appeasements


def test_a_return_over_the_limit_is_recorded_and_its_refund_waits(
    api, agent, manager, order, django_capture_on_commit_callbacks
):
    RefundLimit.objects.create(employee=agent, limit=D("20.00"))
    item = order.items.order_by("line_number").first()
    body = {
        "items": [{"order_item_id": str(item.order_item_id), "quantity": 1}],
        "return_code": "2002",
        "refund": True,
        "updated_by": "emp_cs_001",
    }
    r = api(agent).post(f"/api/v1/orders/{order.order_id}/returns", body, format="json")
    assert r.status_code == 201, r.content
    ret = r.json()["return"]
    assert ret["refund_amount"] == 0.0
    assert r.json()["order_status"] == "partially_returned"  # the goods are back either way
    approval_id = ret["refund_approval_request_id"]
    assert approval_id
    assert not Refund.objects.filter(order=order).exists()
    with django_capture_on_commit_callbacks(execute=True):
        ok = api(manager).post(f"/api/v1/approvals/{approval_id}/approve", {"note": "OK"}, format="json")
    assert ok.status_code == 200, ok.content
    stored = Return.objects.get(return_id=ret["return_id"])
    assert stored.refund_amount == D("50.00")
    [paid] = Refund.objects.filter(order=order)
    assert (paid.cause_id, paid.requested_by, paid.approved_by) == (stored.return_id, agent, manager)


def test_appeasements_and_issue_refunds_share_the_limit(api, agent, order):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    RefundLimit.objects.create(employee=agent, limit=D("10.00"))
    assert refund(api(agent), issue_factory(order, actor=agent), 8).status_code == 200
    cc = APIClient()
    cc.credentials(HTTP_AUTHORIZATION=f"Bearer {Token.objects.get_or_create(user=agent)[0].key}")
    r = cc.post(
        "/ccagent/v1/appeasements/submit",
        {
            "orderId": order.order_id,
            "reason": "incorrectItem",
            "appeasementRefunds": [{"refundType": "externalRefund", "amount": 5}],
        },
        format="json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "PENDING_APPROVAL"  # 8.00 + 5.00 > 10.00, though 5.00 is within the 20% policy
    assert own(order, agent) == [D("8.00")]


# --------------------------------------------------------------------------- setting limits


def test_create_employee_sets_and_removes_a_personal_limit(db):
    from io import StringIO

    from django.core.management import call_command

    call_command(
        "create_employee", "emp_cs_009", "--role", "agent", "--limit", "25.50", stdout=StringIO(), stderr=StringIO()
    )
    row = RefundLimit.objects.get(employee__username="emp_cs_009")
    assert row.limit == D("25.50")
    assert row.history.get().history_change_reason == "Refund limit 25.50"
    call_command(
        "create_employee", "emp_cs_009", "--role", "agent", "--limit", "none", stdout=StringIO(), stderr=StringIO()
    )
    assert not RefundLimit.objects.filter(employee__username="emp_cs_009").exists()


@pytest.mark.parametrize("value", ["-1", "1.005", "abc"])
def test_create_employee_refuses_a_bad_limit(db, value):
    from io import StringIO

    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command(
            "create_employee", "emp_cs_009", "--role", "agent", "--limit", value, stdout=StringIO(), stderr=StringIO()
        )
    assert not RefundLimit.objects.exists()


def test_a_limit_is_an_employees_or_a_roles(agent):
    with pytest.raises(Exception, match="either an employee"):
        refund_limit_set(employee=agent, role="agent", limit=D("1.00"))
    with pytest.raises(Exception, match="either an employee"):
        refund_limit_set(limit=D("1.00"))


def test_a_service_accounts_grants_are_set_where_it_is_made(db):
    from io import StringIO

    from django.core.management import CommandError, call_command

    err = StringIO()
    call_command(
        "create_employee", "svc_x", "--role", "service", "--act-for", "agent,manager",
        "--accounts", "5e3598e3007c5e00080d2bb8", stdout=StringIO(), stderr=err,
    )  # fmt: skip
    assert "acts for: agent, manager; webhook accounts: 5e3598e3007c5e00080d2bb8" in err.getvalue()
    from config.models import ServiceAccount

    grant = ServiceAccount.objects.get(user__username="svc_x")
    assert (grant.act_for, grant.accounts) == (["agent", "manager"], ["5e3598e3007c5e00080d2bb8"])
    assert grant.history.get().history_change_reason.startswith("Granted: acts for agent, manager")
    for bad in (["--act-for", "admin"], ["--accounts", "0"]):
        with pytest.raises(CommandError):
            call_command("create_employee", "svc_x", "--role", "service", *bad, stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="Only service accounts"):
        call_command(
            "create_employee", "emp_x", "--role", "agent", "--act-for", "agent", stdout=StringIO(), stderr=StringIO()
        )
    employee_upsert(employee_id="svc_x", role="service", act_for=["agent"])
    grant.refresh_from_db()
    assert grant.act_for == ["agent"]
    assert grant.history.latest().history_change_reason == "Changed: acts for agent"
