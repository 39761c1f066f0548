"""Issue 20's findings, each as the attacker tried it: every credential stays in its lane.

1. One service-account token did all four eyes' work (asked as an agent, approved as a manager).
2. Appeasements were not owned (another agent changed, submitted and deleted a draft; the limit was the owner's).
3. The issue refund ignored the refund policy (a 5.00 limit, an 80.00 refund, no approval).
4. Webhook subscriptions were global: tests/webhooks/test_subscription_scope.py.

Each test would pass on the code before issue 20 only if the attack failed there too; each checks the refusal's
body and that nothing changed.
"""

from decimal import Decimal

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from appeasements.models import Appeasement
from config.people import employee_upsert
from issues.models import ApprovalRequest, IssueNote, OrderIssue
from orders.models import Refund, RefundLimit
from tests.factories import employee, issue_factory, order_with_items
from tests.hardening.audit_helpers import Audit

pytestmark = pytest.mark.django_db

CC = "/ccagent/v1/appeasements"


def token_client(user, keyword: str = "Token") -> APIClient:
    client = APIClient()
    client.default_format = "json"
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def people(db):
    people = {
        "agent": employee("emp_cs_001", "agent"),
        "other_agent": employee("emp_cs_002", "agent"),
        "manager": employee("emp_mgr_001", "manager"),
        "manager2": employee("emp_mgr_002", "manager"),
        "manager3": employee("emp_mgr_003", "manager"),
        "service": employee("svc_storefront", "service"),
    }
    # the strongest service account there is: granted agents and managers
    employee_upsert(employee_id="svc_storefront", role="service", act_for=["agent", "manager"])
    return people


@pytest.fixture
def order(db):
    """A completed order of 100.00 USD, paid in full."""
    return order_with_items(items=2, unit_price=Decimal("50.00"), status="completed")


def issue_url(issue, suffix: str = "") -> str:
    return f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}{suffix}"


# --------------------------------------------------------------------------- 1. four eyes, whoever the credential


def test_a_service_token_cannot_approve_the_escalation_it_asked_for_as_an_agent(people, order):
    svc = token_client(people["service"])
    issue = issue_factory(order, actor=people["agent"], assigned_to=people["agent"], status="in_progress")
    asked = svc.patch(
        issue_url(issue), {"status": "escalated", "notes": "Customer threatens", "updated_by": "emp_cs_001"}, "json"
    )
    assert asked.status_code == 202, asked.content
    approval_id = asked.json()["approval_request_id"]
    audit = Audit()
    # when: the same token approves it, naming a manager
    r = svc.post(f"/api/v1/approvals/{approval_id}/approve", {"note": "OK", "decided_by": "emp_mgr_001"}, "json")
    # then: refused in the back-office envelope, and nothing moved
    assert r.status_code == 403, r.content
    body = r.json()
    assert (body["success"], body["error_code"]) == (False, "PERMISSION_DENIED")
    assert "own credential" in body["message"]
    audit.assert_nothing("service-token approval")
    assert ApprovalRequest.objects.get(approval_id=approval_id).state == "pending"
    assert OrderIssue.objects.get(pk=issue.pk).status == "in_progress"
    # and the manager with their own token may
    own = token_client(people["manager"]).post(f"/api/v1/approvals/{approval_id}/approve", {"note": "OK"}, "json")
    assert own.status_code == 200, own.content
    assert OrderIssue.objects.get(pk=issue.pk).status == "escalated"


@pytest.mark.parametrize(
    ("status", "target"),
    [("resolved", "closed"), ("closed", "open"), ("escalated", "in_progress")],
    ids=["close", "reopen a closed issue", "leave escalation"],
)
def test_manager_only_transitions_need_the_managers_own_credential(people, order, status, target):
    issue = issue_factory(order, actor=people["agent"], assigned_to=people["agent"], status=status)
    audit = Audit()
    r = token_client(people["service"]).patch(
        issue_url(issue), {"status": target, "notes": "As the manager", "updated_by": "emp_mgr_001"}, "json"
    )
    if target == "open":  # reopening asked for on the manager's behalf is a request, as an agent's would be
        assert r.status_code == 202, r.content
        assert OrderIssue.objects.get(pk=issue.pk).status == status
        return
    assert r.status_code == 403, r.content
    assert r.json()["error_code"] == "PERMISSION_DENIED"
    assert "own credential" in r.json()["message"]
    audit.assert_nothing(f"{status} -> {target} on behalf")


def test_a_direct_escalation_on_a_managers_behalf_is_only_a_request(people, order):
    issue = issue_factory(order, actor=people["agent"], assigned_to=people["agent"], status="in_progress")
    r = token_client(people["service"]).patch(
        issue_url(issue), {"status": "escalated", "notes": "Escalate", "updated_by": "emp_mgr_001"}, "json"
    )
    assert r.status_code == 202, r.content
    assert OrderIssue.objects.get(pk=issue.pk).status == "in_progress"
    approval = ApprovalRequest.objects.get(approval_id=r.json()["approval_request_id"])
    assert approval.requested_by == people["manager"]
    # the manager named as requester may not decide it, even with their own token
    own = token_client(people["manager"]).post(f"/api/v1/approvals/{approval.approval_id}/approve", {"note": "x"})
    assert own.status_code == 403


def test_an_over_policy_appeasement_made_as_an_agent_cannot_be_approved_as_a_manager_by_the_same_token(people, order):
    svc = token_client(people["service"], "Bearer")
    body = {
        "orderId": order.order_id,
        "reason": "incorrectItem",
        "agentId": "emp_cs_001",
        "appeasementRefunds": [{"refundType": "externalRefund", "amount": 60}],  # over the 20% policy
    }
    made = svc.post(f"{CC}/submit", body, "json")
    assert made.status_code == 201, made.content
    assert made.json()["state"] == "PENDING_APPROVAL"
    approval = ApprovalRequest.objects.get(target_id=made.json()["id"], state="pending")
    audit = Audit()
    r = token_client(people["service"]).post(
        f"/api/v1/approvals/{approval.approval_id}/approve", {"note": "Paid", "decided_by": "emp_mgr_001"}, "json"
    )
    assert r.status_code == 403, r.content
    audit.assert_nothing("service approves its own appeasement")
    assert not Refund.objects.filter(order=order).exists()
    assert Appeasement.objects.get(appeasement_id=made.json()["id"]).state == "PENDING_APPROVAL"


def made_by_manager_submitted_by_manager2(people, order) -> tuple[dict, ApprovalRequest]:
    """A 60.00 appeasement (over the 20% policy) the manager created and a second manager submitted."""
    draft = (
        token_client(people["manager"], "Bearer")
        .post(
            CC,
            {
                "orderId": order.order_id,
                "reason": "incorrectItem",
                "appeasementRefunds": [{"refundType": "externalRefund", "amount": 60}],
            },
        )
        .json()
    )
    submitted = token_client(people["manager2"], "Bearer").post(f"{CC}/submit", {"id": draft["id"]})
    assert submitted.json()["state"] == "PENDING_APPROVAL", submitted.content
    return draft, ApprovalRequest.objects.get(target_id=draft["id"], state="pending")


def test_a_manager_who_created_an_appeasement_never_decides_it(people, order):
    """The creator, the owner and the submitter are all out: a third manager decides."""
    draft, approval = made_by_manager_submitted_by_manager2(people, order)
    for who in ("manager", "manager2"):
        audit = Audit()
        r = token_client(people[who]).post(f"/api/v1/approvals/{approval.approval_id}/approve", {"note": "Mine"})
        assert r.status_code == 403, (who, r.content)
        assert "four-eyes" in r.json()["message"]
        audit.assert_nothing(who)
    r = token_client(people["manager3"]).post(f"/api/v1/approvals/{approval.approval_id}/approve", {"note": "OK"})
    assert r.status_code == 200, r.content
    assert Appeasement.objects.get(appeasement_id=draft["id"]).state == "SUBMITTED"
    [paid] = Refund.objects.filter(order=order)
    assert (paid.requested_by, paid.approved_by, paid.amount) == (people["manager2"], people["manager3"], 60)


def test_the_admin_offers_no_decision_to_the_creator_either(people, order, client):
    from django.urls import reverse

    _draft, approval = made_by_manager_submitted_by_manager2(people, order)
    client.force_login(people["manager3"])  # an uninvolved manager is offered the buttons
    page = client.get(reverse("admin:issues_approvalrequest_change", args=[approval.pk])).content.decode()
    assert 'value="approve"' in page
    client.force_login(people["manager"])  # the creator is not
    page = client.get(reverse("admin:issues_approvalrequest_change", args=[approval.pk])).content.decode()
    assert 'value="approve"' not in page
    r = client.post(
        reverse(
            "admin:issues_approvalrequest_transition", kwargs={"object_id": approval.pk, "transition_name": "approve"}
        ),
        {"note": "Mine"},
    )
    assert r.status_code in (302, 403)
    assert ApprovalRequest.objects.get(pk=approval.pk).state == "pending"


# --------------------------------------------------------------------------- 2. appeasements are owned


@pytest.fixture
def draft(people, order):
    r = token_client(people["agent"], "Bearer").post(
        CC,
        {
            "orderId": order.order_id,
            "reason": "incorrectItem",
            "appeasementRefunds": [{"refundType": "externalRefund", "amount": 10}],
        },
        "json",
    )
    assert r.status_code == 201, r.content
    return r.json()


def assert_cc_forbidden(r, owner: str = "emp_cs_001"):
    assert r.status_code == 403, r.content
    body = r.json()
    assert body["errorCode"] == "403"
    assert body["status"] == "403"
    assert owner in body["message"]
    assert "only its agent or a manager" in body["message"]
    assert body["errors"][0]["field"] == "agentId"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/{id}", {"appeasementRefunds": [{"refundType": "externalRefund", "amount": 18}]}),
        ("post", "/submit", {"id": "{id}"}),
        ("delete", "/{id}", None),
    ],
    ids=["put", "submit", "delete"],
)
def test_another_agent_cannot_change_submit_or_delete_an_agents_appeasement(people, draft, method, path, body):
    client = token_client(people["other_agent"], "Bearer")
    url = CC + path.format(id=draft["id"])
    if body and "id" in body:
        body = {"id": draft["id"]}
    audit = Audit()
    r = getattr(client, method)(url, body, "json") if body else getattr(client, method)(url)
    assert_cc_forbidden(r)
    audit.assert_nothing(f"{method} by another agent")
    stored = Appeasement.objects.get(appeasement_id=draft["id"])
    assert (stored.state, stored.agent.username) == ("INCOMPLETE", "emp_cs_001")
    assert [str(r.amount) for r in stored.refunds.all()] == ["10.00"]


def test_a_service_acting_for_another_agent_cannot_either(people, draft):
    svc = token_client(people["service"], "Bearer")
    audit = Audit()
    r = svc.put(f"{CC}/{draft['id']}", {"notes": "mine now", "agentId": "emp_cs_002"}, "json")
    assert_cc_forbidden(r)
    r = svc.delete(f"{CC}/{draft['id']}?agentId=emp_cs_002")
    assert_cc_forbidden(r)
    audit.assert_nothing("service for another agent")


def test_its_agent_through_a_service_and_a_manager_may(people, draft):
    svc = token_client(people["service"], "Bearer")
    r = svc.put(f"{CC}/{draft['id']}", {"notes": "Called back", "agentId": "emp_cs_001"}, "json")
    assert r.status_code == 200, r.content
    latest = Appeasement.objects.get(appeasement_id=draft["id"]).history.latest()
    assert (latest.history_user.username, latest.history_via) == ("emp_cs_001", "svc_storefront")
    r = token_client(people["manager"], "Bearer").put(f"{CC}/{draft['id']}", {"notes": "Checked"}, "json")
    assert r.status_code == 200, r.content
    r = svc.delete(f"{CC}/{draft['id']}?agentId=emp_cs_001")
    assert r.status_code == 204, r.content


def test_the_limit_is_the_submitters_not_the_owners(people, order):
    """The agent who owns the draft has no limit; the manager who submits it has 5.00: over theirs, it waits."""
    RefundLimit.objects.create(employee=people["manager"], limit=Decimal("5.00"))
    draft = (
        token_client(people["agent"], "Bearer")
        .post(
            CC,
            {
                "orderId": order.order_id,
                "reason": "incorrectItem",
                "appeasementRefunds": [{"refundType": "externalRefund", "amount": 15}],
            },
            "json",
        )
        .json()
    )
    r = token_client(people["manager"], "Bearer").post(f"{CC}/submit", {"id": draft["id"]}, "json")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "PENDING_APPROVAL"
    approval = ApprovalRequest.objects.get(target_id=draft["id"], state="pending")
    assert approval.requested_by == people["manager"]
    assert "emp_mgr_001's refund limit of 5.00" in approval.reason
    assert not Refund.objects.filter(order=order).exists()


def test_an_agent_over_their_own_limit_waits_for_a_manager(people, order):
    RefundLimit.objects.create(employee=people["agent"], limit=Decimal("5.00"))
    r = token_client(people["agent"], "Bearer").post(
        f"{CC}/submit",
        {
            "orderId": order.order_id,
            "reason": "incorrectItem",
            "appeasementRefunds": [{"refundType": "externalRefund", "amount": 15}],
        },
        "json",
    )
    assert r.status_code == 201, r.content
    assert r.json()["state"] == "PENDING_APPROVAL"
    assert not Refund.objects.filter(order=order).exists()


def test_approving_an_appeasement_checks_again_what_is_still_refundable(people, order):
    pending = (
        token_client(people["agent"], "Bearer")
        .post(
            f"{CC}/submit",
            {
                "orderId": order.order_id,
                "reason": "incorrectItem",
                "appeasementRefunds": [{"refundType": "externalRefund", "amount": 60}],
            },
            "json",
        )
        .json()
    )
    assert pending["state"] == "PENDING_APPROVAL"
    # meanwhile 50.00 of the 100.00 is refunded: 60.00 no longer fits
    from orders.services import refund_record

    refund_record(order=order, actor=people["manager"], amount=Decimal("50.00"), source="merchant")
    approval = ApprovalRequest.objects.get(target_id=pending["id"], state="pending")
    audit = Audit()
    r = token_client(people["manager"]).post(f"/api/v1/approvals/{approval.approval_id}/approve", {"note": "OK"})
    assert r.status_code == 400, r.content
    assert r.json()["refundable_amount"] == 50.0
    audit.assert_nothing("approval over the refundable")
    assert Appeasement.objects.get(appeasement_id=pending["id"]).state == "PENDING_APPROVAL"


# --------------------------------------------------------------------------- 3. the issue refund follows the policy


def test_an_80_refund_over_a_5_limit_is_an_approval_request_not_a_refund(people, order):
    RefundLimit.objects.create(employee=people["agent"], limit=Decimal("5.00"))
    issue = issue_factory(order, actor=people["agent"], assigned_to=people["agent"], status="in_progress")
    r = token_client(people["agent"]).patch(
        issue_url(issue),
        {"refund_amount": 80, "refund_source": "store_credit", "notes": "Goodwill", "updated_by": "emp_cs_001"},
        "json",
    )
    assert r.status_code == 202, r.content
    body = r.json()
    assert body["refund_processed"] is False
    assert body["approval_kind"] == "refund"
    assert body["requested_refund_amount"] == 80.0
    assert body["requested_status"] is None
    assert body["updated_fields"] == ["notes"]
    assert "over the limit" in body["message"]
    assert not Refund.objects.filter(order=order).exists()
    approval = ApprovalRequest.objects.get(approval_id=body["approval_request_id"])
    assert (approval.kind, approval.issue, approval.requested_by) == ("refund", issue, people["agent"])
    assert approval.payload["amount"] == "80.00"
    # the agent cannot approve their own; another agent cannot approve at all; a manager can
    for who in ("agent", "other_agent"):
        refused = token_client(people[who]).post(f"/api/v1/approvals/{approval.approval_id}/approve", {"note": "x"})
        assert refused.status_code == 403, (who, refused.content)
    assert not Refund.objects.filter(order=order).exists()
    ok = token_client(people["manager"]).post(f"/api/v1/approvals/{approval.approval_id}/approve", {"note": "Fine"})
    assert ok.status_code == 200, ok.content
    [refund] = Refund.objects.filter(order=order)
    assert (refund.amount, refund.source, refund.cause_id) == (Decimal("80.00"), "store_credit", issue.issue_id)
    assert (refund.requested_by, refund.approved_by) == (people["agent"], people["manager"])
    approval.refresh_from_db()
    assert approval.payload["refund_id"] == refund.refund_id
    assert IssueNote.objects.filter(issue=issue, body__contains="Refund over limit request").exists()


def test_a_rejected_refund_request_refunds_nothing(people, order):
    RefundLimit.objects.create(employee=people["agent"], limit=Decimal("5.00"))
    issue = issue_factory(order, actor=people["agent"], assigned_to=people["agent"], status="in_progress")
    r = token_client(people["agent"]).patch(
        issue_url(issue), {"refund_amount": 80, "refund_source": "store_credit", "updated_by": "emp_cs_001"}, "json"
    )
    approval_id = r.json()["approval_request_id"]
    r = token_client(people["manager"]).post(f"/api/v1/approvals/{approval_id}/reject", {"note": "Too much"})
    assert r.status_code == 200, r.content
    assert ApprovalRequest.objects.get(approval_id=approval_id).state == "rejected"
    assert not Refund.objects.filter(order=order).exists()


# --------------------------------------------------------------------------- on-behalf writes name both


def test_an_on_behalf_write_names_the_employee_and_the_service_account_in_history_and_timeline(people, order):
    issue = issue_factory(order, actor=people["agent"], assigned_to=people["agent"], status="open")
    r = token_client(people["service"]).patch(
        issue_url(issue), {"status": "investigating", "notes": "Chat transcript", "updated_by": "emp_cs_001"}, "json"
    )
    assert r.status_code == 200, r.content
    record = OrderIssue.objects.get(pk=issue.pk).history.latest()
    assert (record.history_user, record.history_via) == (people["agent"], "svc_storefront")
    note = IssueNote.objects.get(issue=issue, body="Chat transcript")
    assert note.history.get().history_via == "svc_storefront"
    # the API's history
    history = token_client(people["manager"]).get(issue_url(issue, "/history")).json()
    assert history["timeline"][-1]["changed_by"] == "emp_cs_001"
    assert history["timeline"][-1]["changed_via"] == "svc_storefront"
    assert history["notes"][-1]["author_via"] == "svc_storefront"
    # the admin's timeline
    from issues.selectors import issue_timeline

    lines = [(e["kind"], e["who"]) for e in issue_timeline(issue.pk)]
    assert ("status", "emp_cs_001 (via svc_storefront)") in lines
    assert ("note", "emp_cs_001 (via svc_storefront)") in lines


def test_an_employees_own_write_names_no_service_account(people, order):
    issue = issue_factory(order, actor=people["agent"], assigned_to=people["agent"], status="open")
    token_client(people["agent"]).patch(issue_url(issue), {"notes": "Mine", "updated_by": "emp_cs_001"}, "json")
    assert IssueNote.objects.get(body="Mine").history.get().history_via == ""
    history = token_client(people["agent"]).get(issue_url(issue, "/history")).json()
    assert history["notes"][-1]["author_via"] is None


@pytest.mark.parametrize(
    ("grant", "named", "allowed"),
    [
        (None, "emp_cs_001", True),
        (None, "emp_mgr_001", False),  # default: agents only
        (["manager"], "emp_cs_001", False),  # granted managers only
        (["agent", "manager"], "emp_mgr_001", True),
        (["agent", "manager"], "svc_other", False),  # never another service account
        (["agent", "manager"], "root", False),  # never an administrator
    ],
)
def test_a_service_account_acts_only_for_the_roles_it_was_granted(order, grant, named, allowed):
    from django.contrib.auth import get_user_model

    employee("emp_cs_001", "agent")
    employee("emp_mgr_001", "manager")
    employee("svc_other", "service")
    get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    service = employee("svc_narrow", "service")
    if grant is not None:
        employee_upsert(employee_id="svc_narrow", role="service", act_for=grant)
    issue = issue_factory(order, status="open")
    audit = Audit()
    r = token_client(service).patch(issue_url(issue), {"notes": "Hello", "updated_by": named}, "json")
    if allowed:
        assert r.status_code == 200, r.content
        return
    assert r.status_code == 403, r.content
    assert r.json()["field"] == "updated_by"
    assert "svc_narrow may not act for" in r.json()["message"]
    audit.assert_nothing(f"{grant} for {named}")
