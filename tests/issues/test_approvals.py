"""Approval requests: the managers' queue, approve/reject, the four-eyes rule, history."""

import pytest
from django.contrib.auth.models import Permission

from issues.models import ApprovalRequest, Notification, OrderIssue
from tests.issues.conftest import url


@pytest.fixture
def escalation(api, agent, make_issue):
    """An agent's pending escalation request on an in-progress issue."""
    issue = make_issue(status="in_progress")
    response = api(agent).patch(
        url(issue), {"status": "escalated", "notes": "Needs a manager", "updated_by": "emp_cs_001"}, format="json"
    )
    assert response.status_code == 202
    return ApprovalRequest.objects.get(approval_id=response.json()["approval_request_id"])


def decide(api, user, approval, action, note="Agreed", **extra):
    return api(user).post(f"/api/v1/approvals/{approval.approval_id}/{action}", {"note": note, **extra}, format="json")


def test_manager_approval_applies_the_transition(api, manager, agent, escalation, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(api, manager, escalation, "approve", decided_by="emp_mgr_001")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["state"], body["decided_by"], body["decision_note"]) == ("approved", "emp_mgr_001", "Agreed")
    issue = OrderIssue.objects.get(pk=escalation.issue_id)
    assert issue.status == "escalated"
    assert issue.history.first().history_user == manager
    escalation.refresh_from_db()
    assert [h.state for h in escalation.history.order_by("history_date")] == ["pending", "approved"]
    assert Notification.objects.get(kind="request_approved").recipient == agent


def test_rejection_leaves_the_issue_and_tells_the_requester(api, manager, agent, escalation):
    response = decide(api, manager, escalation, "reject", note="Not yet")
    assert response.json()["state"] == "rejected"
    assert OrderIssue.objects.get(pk=escalation.issue_id).status == "in_progress"
    assert Notification.objects.get(kind="request_rejected").recipient == agent


def test_a_decided_request_cannot_be_decided_again(api, manager, other_manager, escalation):
    decide(api, manager, escalation, "reject", note="No")
    again = decide(api, other_manager, escalation, "approve")
    assert again.status_code == 409
    assert again.json()["error_code"] == "INVALID_STATUS_TRANSITION"
    assert again.json()["current_status"] == "rejected"


def test_agents_cannot_decide(api, other_agent, escalation):
    response = decide(api, other_agent, escalation, "approve")
    assert response.status_code == 403
    assert "issues.decide_approvalrequest" in response.json()["message"]
    escalation.refresh_from_db()
    assert escalation.state == "pending"


def test_four_eyes_the_requester_never_decides(api, agent, manager, escalation):
    # given: the requesting agent is promoted and may now decide requests
    agent.user_permissions.add(Permission.objects.get(codename="decide_approvalrequest"))
    # when
    response = decide(api, agent, escalation, "approve", decided_by="emp_cs_001")
    # then
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "four-eyes" in response.json()["message"]
    escalation.refresh_from_db()
    assert escalation.state == "pending"
    assert OrderIssue.objects.get(pk=escalation.issue_id).status == "in_progress"
    assert decide(api, manager, escalation, "approve").status_code == 200


def test_the_fsm_permission_also_holds_four_eyes(agent, manager, escalation):
    agent.user_permissions.add(Permission.objects.get(codename="decide_approvalrequest"))
    agent = type(agent).objects.get(pk=agent.pk)
    assert [t.name for t in escalation.get_available_user_state_transitions(agent)] == ["cancel"]
    assert {t.name for t in escalation.get_available_user_state_transitions(manager)} == {"approve", "reject", "cancel"}


def test_approval_that_is_no_longer_legal_is_409(api, manager, escalation):
    # meanwhile a manager resolved the issue and closed it: closed issues cannot be escalated
    issue = OrderIssue.objects.get(pk=escalation.issue_id)
    for status in ("resolved", "closed"):
        response = api(manager).patch(
            url(issue), {"status": status, "notes": "n", "updated_by": "emp_mgr_001"}, format="json"
        )
        assert response.status_code == 200, response.json()
    response = decide(api, manager, escalation, "approve")
    assert response.status_code == 409
    body = response.json()
    assert (body["error_code"], body["current_status"], body["requested_status"]) == (
        "INVALID_STATUS_TRANSITION",
        "closed",
        "escalated",
    )
    escalation.refresh_from_db()
    assert escalation.state == "pending"


def test_reopen_approval_reopens(api, agent, manager, make_issue):
    issue = make_issue(status="closed")
    response = api(agent).patch(
        url(issue), {"status": "open", "notes": "Back again", "updated_by": "emp_cs_001"}, format="json"
    )
    approval = ApprovalRequest.objects.get(approval_id=response.json()["approval_request_id"])
    assert decide(api, manager, approval, "approve").status_code == 200
    issue.refresh_from_db()
    assert (issue.status, issue.reopen_count) == ("open", 1)


def test_note_is_required(api, manager, escalation):
    response = decide(api, manager, escalation, "approve", note="")
    assert response.status_code == 400
    assert response.json()["validation_errors"][0]["field"] == "note"


def test_unknown_request_is_404(api, manager):
    response = api(manager).post("/api/v1/approvals/apr_nope/approve", {"note": "x"}, format="json")
    assert response.status_code == 404


def test_queue_filters_by_state_and_kind(api, manager, agent, escalation, make_issue):
    closed = make_issue(status="closed")
    api(agent).patch(url(closed), {"status": "open", "updated_by": "emp_cs_001"}, format="json")
    decide(api, manager, escalation, "reject", note="no")
    client = api(manager)

    def kinds(query):
        return [(r["kind"], r["state"]) for r in client.get(f"/api/v1/approvals?{query}").json()["results"]]

    assert kinds("state=pending") == [("reopen", "pending")]
    assert kinds("kind=escalation") == [("escalation", "rejected")]
    assert len(kinds("")) == 2


def test_requester_cancels_a_pending_request(api, agent, other_agent, manager, escalation):
    refused = api(other_agent).post(f"/api/v1/approvals/{escalation.approval_id}/cancel", {}, format="json")
    assert refused.status_code == 403
    response = api(agent).post(f"/api/v1/approvals/{escalation.approval_id}/cancel", {"note": "Sorted"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert decide(api, manager, escalation, "approve").status_code == 409
    escalation.refresh_from_db()
    assert [h.state for h in escalation.history.order_by("history_date")] == ["pending", "cancelled"]


def test_a_managers_direct_escalation_settles_the_pending_request(api, manager, escalation):
    issue = OrderIssue.objects.select_related("order").get(pk=escalation.issue_id)
    response = api(manager).patch(url(issue), {"status": "escalated", "updated_by": "emp_mgr_001"}, format="json")
    assert response.status_code == 200
    escalation.refresh_from_db()
    assert (escalation.state, escalation.decided_by) == ("cancelled", manager)


CALLS: list = []


def record_decision(*, approval, actor, approve, note):
    from config.errors import Conflict

    if note == "boom":
        raise Conflict("The target refused")
    CALLS.append((approval.approval_id, actor.username, approve, note))


def test_requests_about_other_targets_call_their_handler(api, agent, manager, monkeypatch, make_issue):
    # given: a request of a kind with its own handler (an appeasement's, a refund's), about the issue it concerns
    from issues import approvals

    monkeypatch.setitem(approvals._HANDLERS, ("widget", None), record_decision)
    CALLS.clear()
    issue = make_issue(status="in_progress")
    approval = ApprovalRequest.objects.create(
        kind="widget", issue=issue, target_type="widget", target_id="w1", requested_status="SUBMITTED",
        requested_by=agent,
    )  # fmt: skip
    # when the target refuses, nothing changes
    refused = decide(api, manager, approval, "approve", note="boom")
    assert refused.status_code == 409
    approval.refresh_from_db()
    assert approval.state == "pending"
    # when it accepts
    response = decide(api, manager, approval, "approve", note="ok")
    # then: the handler ran, the issue was not moved
    assert response.status_code == 200
    assert CALLS == [(approval.approval_id, "emp_mgr_001", True, "ok")]
    assert OrderIssue.objects.get(pk=issue.pk).status == "in_progress"
    assert Notification.objects.get(kind="request_approved").recipient == agent


def test_each_app_registers_what_deciding_its_requests_does():
    """The approval queue imports no app that opens requests: their handlers are registered at start-up."""
    from types import SimpleNamespace

    from appeasements.services import appeasement_decided
    from issues import approvals
    from issues.refund_requests import refund_request_decided
    from returns.services import return_refund_decided

    def of(kind, target_type):
        return approvals.handler_for(SimpleNamespace(kind=kind, target_type=target_type))

    assert of("appeasement", "appeasement") is appeasement_decided
    assert of("refund", "return") is return_refund_decided  # by kind and target first
    assert of("refund", "issue") is refund_request_decided  # then by kind
    assert of("refund", "order") is refund_request_decided
    assert of("escalation", "issue") is None  # an issue's own move: the queue decides it
    with pytest.raises(ValueError, match="registered already"):
        approvals.register("refund", lambda **kw: None)
