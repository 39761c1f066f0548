"""Over-policy appeasements in the managers' approval queue (four-eyes), with notifications."""

from decimal import Decimal

import pytest

from appeasements.models import Appeasement, AppeasementState
from issues.models import ApprovalRequest, IssueNote, Notification
from orders.models import Refund, RefundCause, RefundSource
from orders.services import refund_record
from tests.appeasements.conftest import BASE, assert_cc_error, body
from tests.factories import issue_factory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(cc, agent, manager, other_manager, order):
    """An appeasement of 30.00 on a 100.00 order (over the 20% policy), submitted by the agent."""
    created = cc(agent).post(f"{BASE}/submit", body(order, amount="30.00"), format="json")
    assert created.json()["state"] == "PENDING_APPROVAL"
    appeasement = Appeasement.objects.get(appeasement_id=created.json()["id"])
    approval = ApprovalRequest.objects.get(target_type="appeasement", target_id=appeasement.appeasement_id)
    return appeasement, approval


def decide(api, user, approval, verb: str, note: str = "Checked with the customer"):
    return api(user).post(f"/api/v1/approvals/{approval.approval_id}/{verb}", {"note": note}, format="json")


def test_over_policy_submit_opens_a_request_and_notifies_the_managers(pending, agent, manager, other_manager):
    appeasement, approval = pending
    assert approval.kind == "appeasement"
    assert approval.requested_by == agent
    assert approval.payload["amount"] == "30.00"
    notified = set(
        Notification.objects.filter(kind="appeasement_requested").values_list("recipient__username", flat=True)
    )
    assert notified == {"emp_mgr_001", "emp_mgr_002"}
    assert appeasement.appeasement_id in Notification.objects.filter(recipient=manager).first().message


def test_a_manager_approves_it_submits_through_the_ledger(
    pending, api, cc, agent, manager, django_capture_on_commit_callbacks
):
    appeasement, approval = pending
    with django_capture_on_commit_callbacks(execute=True):
        r = decide(api, manager, approval, "approve", "Valued customer")
    assert r.status_code == 200, r.content
    appeasement.refresh_from_db()
    assert appeasement.state == AppeasementState.SUBMITTED
    assert appeasement.submitted_at is not None
    assert appeasement.decision_note == "Valued customer"
    ledger = Refund.objects.get(cause_type=RefundCause.APPEASEMENT, cause_id=appeasement.appeasement_id)
    assert ledger.amount == Decimal("30.00")
    approval.refresh_from_db()
    assert approval.state == "approved"
    data = cc(agent).get(f"{BASE}/{appeasement.appeasement_id}").json()
    assert data["state"] == "SUBMITTED"
    assert data["appeasementRefunds"][0]["state"] == "COMPLETE"
    assert data["comments"][-1]["agentId"] == "emp_mgr_001"
    assert data["comments"][-1]["comment"] == "Approved: Valued customer"
    assert Notification.objects.filter(recipient=agent, kind="request_approved").exists()


def test_a_manager_rejects_it_with_a_note(pending, api, cc, agent, manager):
    appeasement, approval = pending
    r = decide(api, manager, approval, "reject", "Too generous for a late delivery")
    assert r.status_code == 200, r.content
    appeasement.refresh_from_db()
    assert appeasement.state == AppeasementState.REJECTED
    assert appeasement.decision_note == "Too generous for a late delivery"
    assert not Refund.objects.exists()
    data = cc(agent).get(f"{BASE}/{appeasement.appeasement_id}").json()
    assert data["state"] == "REJECTED"
    assert data["comments"][-1]["comment"] == "Rejected: Too generous for a late delivery"
    assert Notification.objects.filter(recipient=agent, kind="request_rejected").exists()
    # rejected is final: no submit, no delete, no changes but notes and comments
    assert_cc_error(cc(agent).post(f"{BASE}/submit", {"id": appeasement.appeasement_id}, format="json"), 409, "900036")
    assert_cc_error(cc(agent).delete(f"{BASE}/{appeasement.appeasement_id}"), 409, "900036")
    r = cc(agent).put(f"{BASE}/{appeasement.appeasement_id}", {"notes": "Told the customer"}, format="json")
    assert r.status_code == 200


def test_four_eyes_the_requester_cannot_decide(cc, api, manager, other_manager, order):
    created = cc(manager).post(f"{BASE}/submit", body(order, amount="30.00"), format="json").json()
    assert created["state"] == "PENDING_APPROVAL"  # managers are not exempt from the policy
    approval = ApprovalRequest.objects.get(target_id=created["id"])
    assert decide(api, manager, approval, "approve").status_code == 403
    assert Appeasement.objects.get(appeasement_id=created["id"]).state == AppeasementState.PENDING_APPROVAL
    assert decide(api, other_manager, approval, "approve").status_code == 200


def test_agents_cannot_decide(pending, api, other_agent):
    appeasement, approval = pending
    assert decide(api, other_agent, approval, "approve").status_code == 403
    appeasement.refresh_from_db()
    assert appeasement.state == AppeasementState.PENDING_APPROVAL


def test_approval_refused_by_the_ledger_changes_nothing(pending, api, agent, manager, order):
    appeasement, approval = pending
    refund_record(order=order, actor=agent, amount=Decimal("80.00"), source=RefundSource.MERCHANT)  # 20.00 left
    r = decide(api, manager, approval, "approve")
    assert r.status_code == 400, r.content
    appeasement.refresh_from_db()
    approval.refresh_from_db()
    assert appeasement.state == AppeasementState.PENDING_APPROVAL
    assert approval.state == "pending"
    assert not Refund.objects.filter(cause_type=RefundCause.APPEASEMENT).exists()
    assert not Notification.objects.filter(kind="request_approved").exists()  # rolled back with the decision
    # it can still be rejected
    assert decide(api, manager, approval, "reject", "No money left").status_code == 200


def test_the_settled_issue_shows_the_appeasement_in_its_log(cc, agent, api, manager, order):
    issue = issue_factory(order)
    created = (
        cc(agent).post(f"{BASE}/submit", body(order, amount="30.00", issueId=issue.issue_id), format="json").json()
    )
    approval = ApprovalRequest.objects.get(target_id=created["id"])
    assert approval.issue == issue
    decide(api, manager, approval, "approve")
    notes = list(IssueNote.objects.filter(issue=issue).values_list("body", flat=True))
    assert any("awaits a manager's approval" in n for n in notes)
    assert any("was submitted by emp_mgr_001" in n for n in notes)
    small = cc(agent).post(f"{BASE}/submit", body(order, amount="5.00", issueId=issue.issue_id), format="json")
    assert small.json()["state"] == "SUBMITTED"
    assert IssueNote.objects.filter(issue=issue, body__contains=small.json()["id"]).exists()


def test_approval_queue_lists_appeasement_requests(pending, api, manager):
    _, approval = pending
    r = api(manager).get("/api/v1/approvals", {"kind": "appeasement"})
    assert r.status_code == 200
    assert approval.approval_id in r.content.decode()
