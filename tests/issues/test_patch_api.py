"""PATCH /api/v1/orders/{order_id}/issues/{issue_id}: seed 001's contract and issue 3's rules."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core import mail

from issues.models import ApprovalRequest, IssueNote, Notification, OrderIssue
from orders.models import Refund
from tests.issues.conftest import future, url

SEED_RESPONSE_KEYS = {
    "success",
    "message",
    "issue_id",
    "updated_fields",
    "previous_status",
    "new_status",
    "refund_processed",
    "timestamp",
}


def seed_request(**overrides):
    body = {
        "notes": "Customer contacted and confirmed wrong items received. Processing replacement order and refund "
        "for inconvenience.",
        "priority": "medium",
        "status": "resolved",
        "refund_amount": 15.50,
        "refund_source": "merchant",
        "resolution_description": "Issued full refund for incorrect items and sent replacement order at no charge. "
        "Customer very understanding and satisfied with resolution.",
        "customer_satisfied": True,
        "follow_up_required": True,
        "follow_up_date": future(),  # the seed's 2024-01-22 is in the past now; the rule wants the future
        "updated_by": "emp_cs_001",
    }
    body.update(overrides)
    return body


def snapshot(issue):
    """Everything a refused PATCH must leave as it was."""
    fresh = OrderIssue.objects.get(pk=issue.pk)
    return {
        "row": {f.attname: getattr(fresh, f.attname) for f in OrderIssue._meta.concrete_fields},
        "history": fresh.history.count(),
        "notes": IssueNote.objects.filter(issue=issue).count(),
        "refunds": Refund.objects.filter(order=issue.order).count(),
        "approvals": ApprovalRequest.objects.count(),
        "notifications": Notification.objects.count(),
    }


# ----------------------------------------------------------------------------- the seed example


def test_seed_request_example_answers_the_seed_response_shape(
    api, agent, make_issue, django_capture_on_commit_callbacks
):
    # given: the seed's previous status is "investigating", but investigating -> resolved skips in_progress,
    # which issue 3 forbids; the example is replayed from in_progress.
    issue = make_issue(status="in_progress", priority="medium")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = api(agent).patch(url(issue), seed_request(), format="json")
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == SEED_RESPONSE_KEYS | {"refund_id", "refund_status"}  # every seed field, and the refund's
    assert body["success"] is True
    assert body["message"] == "Issue successfully updated and resolution recorded"
    assert body["issue_id"] == issue.issue_id
    assert body["updated_fields"] == [
        "notes",
        "status",
        "refund_amount",
        "refund_source",
        "resolution_description",
        "customer_satisfied",
        "follow_up_required",
        "follow_up_date",
    ]
    assert body["previous_status"] == "in_progress"
    assert body["new_status"] == "resolved"
    assert body["refund_processed"] is True
    assert body["timestamp"].endswith("Z")

    issue.refresh_from_db()
    assert issue.status == "resolved"
    assert issue.resolved_at is not None
    assert issue.customer_satisfied is True
    assert issue.follow_up_required is True
    refund = Refund.objects.get(order=issue.order)
    assert (refund.amount, refund.source, refund.cause_type, refund.cause_id) == (
        Decimal("15.50"),
        "merchant",
        "issue",
        issue.issue_id,
    )
    note = IssueNote.objects.get(issue=issue)
    assert note.author == agent
    assert note.body.startswith("Customer contacted")
    last = issue.history.first()
    assert last.history_user == agent
    assert "in_progress -> resolved" in last.history_change_reason


def test_issue_id_has_the_public_shape(make_issue):
    issue = make_issue()
    assert issue.issue_id.startswith("issue_")
    assert len(issue.issue_id) > 12


def test_updated_fields_lists_only_what_changed(api, agent, make_issue):
    issue = make_issue(status="investigating", priority="medium", resolution_description="same")
    response = api(agent).patch(
        url(issue), {"priority": "medium", "resolution_description": "same", "updated_by": "emp_cs_001"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["updated_fields"] == []
    assert response.json()["message"] == "No changes: values already current"
    assert response.json()["refund_processed"] is False


# ----------------------------------------------------------------------------- the workflow


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("open", "investigating"),
        ("investigating", "in_progress"),
        ("in_progress", "resolved"),
        ("investigating", "open"),
        ("in_progress", "investigating"),
        ("resolved", "in_progress"),
    ],
)
def test_agent_moves_along_ordinary_transitions(api, agent, make_issue, start, target):
    issue = make_issue(status=start)
    response = api(agent).patch(
        url(issue), {"status": target, "notes": "why", "updated_by": "emp_cs_001"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["new_status"] == target
    issue.refresh_from_db()
    assert issue.status == target


@pytest.mark.parametrize(
    ("start", "target", "allowed"),
    [
        ("open", "resolved", ["escalated", "investigating"]),
        ("open", "in_progress", ["escalated", "investigating"]),
        ("investigating", "resolved", ["escalated", "in_progress", "open"]),
        ("in_progress", "closed", ["escalated", "investigating", "resolved"]),
        ("closed", "resolved", ["open"]),
        ("closed", "escalated", ["open"]),
    ],
)
def test_skipping_steps_is_an_invalid_transition(api, manager, make_issue, start, target, allowed):
    issue = make_issue(status=start)
    before = snapshot(issue)
    response = api(manager).patch(
        url(issue), {"status": target, "notes": "skip", "updated_by": "emp_mgr_001"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["success"] is False
    assert body["error_code"] == "INVALID_STATUS_TRANSITION"
    assert body["current_status"] == start
    assert body["requested_status"] == target
    assert body["allowed_transitions"] == allowed
    assert snapshot(issue) == before


def test_closing_needs_the_close_issue_permission(api, agent, make_issue):
    issue = make_issue(status="resolved")
    before = snapshot(issue)
    response = api(agent).patch(
        url(issue), {"status": "closed", "notes": "done", "priority": "low", "updated_by": "emp_cs_001"}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert "issues.close_issue" in response.json()["message"]
    assert snapshot(issue) == before  # the priority and note were not applied either


def test_manager_closes_and_a_senior_agent_can_be_granted_closing(api, manager, other_agent, make_issue):
    issue = make_issue(status="resolved")
    response = api(manager).patch(
        url(issue), {"status": "closed", "notes": "ok", "updated_by": "emp_mgr_001"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["new_status"] == "closed"
    assert OrderIssue.objects.get(pk=issue.pk).closed_at is not None

    senior = other_agent
    senior.user_permissions.add(Permission.objects.get(codename="close_issue"))
    issue2 = make_issue(status="resolved")
    response = api(senior).patch(
        url(issue2), {"status": "closed", "notes": "ok", "updated_by": "emp_cs_002"}, format="json"
    )
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("start", ["open", "investigating", "in_progress", "resolved"])
def test_manager_escalates_at_once(api, manager, make_issue, start):
    issue = make_issue(status=start)
    response = api(manager).patch(url(issue), {"status": "escalated", "updated_by": "emp_mgr_001"}, format="json")
    assert response.status_code == 200
    assert response.json()["new_status"] == "escalated"
    assert not ApprovalRequest.objects.exists()


def test_agent_escalation_applies_other_fields_and_answers_202(
    api, agent, manager, other_manager, make_issue, django_capture_on_commit_callbacks
):
    # given
    manager.email, other_manager.email = "m1@example.com", "m2@example.com"
    manager.save()
    other_manager.save()
    issue = make_issue(status="in_progress", priority="medium")
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(agent).patch(
            url(issue),
            {
                "status": "escalated",
                "priority": "high",
                "notes": "Customer threatens chargeback",
                "updated_by": "emp_cs_001",
            },
            format="json",
        )
    # then
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["success"] is True
    assert body["new_status"] == body["previous_status"] == "in_progress"
    assert body["requested_status"] == "escalated"
    assert body["updated_fields"] == ["notes", "priority"]
    approval = ApprovalRequest.objects.get(approval_id=body["approval_request_id"])
    assert (approval.state, approval.kind, approval.issue_id, approval.requested_by) == (
        "pending",
        "escalation",
        issue.pk,
        agent,
    )
    issue.refresh_from_db()
    assert (issue.status, issue.priority) == ("in_progress", "high")
    recipients = set(
        Notification.objects.filter(kind="escalation_requested").values_list("recipient__username", flat=True)
    )
    assert recipients == {"emp_mgr_001", "emp_mgr_002"}
    assert callbacks
    assert sorted(m.to[0] for m in mail.outbox) == ["m1@example.com", "m2@example.com"]


def test_a_second_pending_request_of_the_same_kind_is_refused(api, agent, make_issue):
    issue = make_issue(status="open")
    first = api(agent).patch(url(issue), {"status": "escalated", "updated_by": "emp_cs_001"}, format="json")
    assert first.status_code == 202
    second = api(agent).patch(url(issue), {"status": "escalated", "updated_by": "emp_cs_001"}, format="json")
    assert second.status_code == 409
    assert second.json()["approval_request_id"] == first.json()["approval_request_id"]
    assert ApprovalRequest.objects.count() == 1


@pytest.mark.parametrize("target", ["investigating", "in_progress", "resolved"])
def test_only_a_manager_moves_an_escalated_issue_on(api, agent, manager, make_issue, target):
    issue = make_issue(status="escalated")
    before = snapshot(issue)
    refused = api(agent).patch(url(issue), {"status": target, "notes": "n", "updated_by": "emp_cs_001"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["error_code"] == "PERMISSION_DENIED"
    assert "issues.handle_escalated_issue" in refused.json()["message"]
    assert snapshot(issue) == before
    accepted = api(manager).patch(
        url(issue), {"status": target, "notes": "n", "updated_by": "emp_mgr_001"}, format="json"
    )
    assert accepted.status_code == 200
    assert accepted.json()["new_status"] == target


def test_agent_reopening_creates_a_request_and_a_manager_reopens_at_once(api, agent, manager, make_issue):
    issue = make_issue(status="closed")
    response = api(agent).patch(
        url(issue), {"status": "open", "notes": "Came back", "updated_by": "emp_cs_001"}, format="json"
    )
    assert response.status_code == 202
    assert response.json()["requested_status"] == "open"
    assert ApprovalRequest.objects.get().kind == "reopen"
    assert OrderIssue.objects.get(pk=issue.pk).status == "closed"

    issue2 = make_issue(status="closed")
    response = api(manager).patch(url(issue2), {"status": "open", "updated_by": "emp_mgr_001"}, format="json")
    assert response.status_code == 200
    issue2.refresh_from_db()
    assert (issue2.status, issue2.reopen_count, issue2.closed_at) == ("open", 1, None)


def test_status_cannot_be_assigned_directly(make_issue):
    from django_fsm import FSMFieldDescriptor  # noqa: F401 - the protected field refuses assignment

    issue = make_issue()
    with pytest.raises(AttributeError):
        issue.status = "closed"


# ----------------------------------------------------------------------------- validation (seed 001)


@pytest.mark.parametrize(
    ("start", "body", "field"),
    [
        ("open", {"notes": "x" * 2001}, "notes"),
        ("open", {"notes": ""}, "notes"),
        ("in_progress", {"status": "resolved"}, "notes"),
        ("resolved", {"status": "closed"}, "notes"),
        ("open", {"priority": "high"}, "notes"),
        ("open", {"priority": "urgent"}, "priority"),
        ("open", {"status": "done"}, "status"),
        ("open", {"refund_amount": 5}, "refund_source"),
        ("open", {"refund_source": "merchant"}, "refund_amount"),
        ("open", {"refund_amount": -5, "refund_source": "merchant"}, "refund_amount"),
        ("open", {"refund_amount": 0, "refund_source": "merchant"}, "refund_amount"),
        ("open", {"refund_amount": 5, "refund_source": "cash"}, "refund_source"),
        ("open", {"follow_up_date": "2024-01-22T10:00:00Z"}, "follow_up_date"),
        ("open", {"follow_up_date": "next tuesday"}, "follow_up_date"),
        ("open", {"follow_up_required": True}, "follow_up_date"),
        ("open", {"assigned_to": "emp_nobody"}, "assigned_to"),
        ("open", {"assigned_to": "svc_storefront"}, "assigned_to"),
        ("open", {"order_total": 1}, "order_total"),
        ("open", {}, "non_field_errors"),
    ],
)
def test_validation_rules(api, agent, service, make_issue, start, body, field):
    issue = make_issue(status=start, priority="medium")
    before = snapshot(issue)
    response = api(agent).patch(url(issue), {**body, "updated_by": "emp_cs_001"}, format="json")
    assert response.status_code == 400, response.json()
    payload = response.json()
    assert payload["success"] is False
    assert payload["error_code"] == "VALIDATION_ERROR"
    assert field in {e["field"] for e in payload["validation_errors"]}, payload
    assert snapshot(issue) == before


def test_lowering_the_priority_needs_no_notes(api, agent, make_issue):
    issue = make_issue(priority="high")
    response = api(agent).patch(url(issue), {"priority": "low", "updated_by": "emp_cs_001"}, format="json")
    assert response.status_code == 200
    assert response.json()["updated_fields"] == ["priority"]


def test_updated_by_is_required_and_must_be_the_caller(api, agent, other_agent, make_issue):
    issue = make_issue()
    missing = api(agent).patch(url(issue), {"priority": "low"}, format="json")
    assert missing.status_code == 400
    assert {"field": "updated_by", "error": "This field is required."} in missing.json()["validation_errors"]
    other = api(agent).patch(url(issue), {"priority": "low", "updated_by": "emp_cs_002"}, format="json")
    assert other.status_code == 403
    assert other.json()["error_code"] == "PERMISSION_DENIED"


def test_a_service_account_acts_for_a_named_employee(api, service, agent, make_issue):
    issue = make_issue(status="open")
    response = api(service).patch(url(issue), {"status": "investigating", "updated_by": "emp_cs_001"}, format="json")
    assert response.status_code == 200
    assert OrderIssue.objects.get(pk=issue.pk).history.first().history_user == agent


def test_refund_over_the_refundable_amount_is_refused_and_changes_nothing(api, agent, make_issue):
    issue = make_issue(status="in_progress")
    before = snapshot(issue)
    response = api(agent).patch(
        url(issue),
        {
            "status": "resolved",
            "notes": "Refund all",
            "refund_amount": 40.01,
            "refund_source": "merchant",
            "updated_by": "emp_cs_001",
        },
        format="json",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error_code"] == "REFUND_PROCESSING_ERROR"
    assert body["refundable_amount"] == 40.0
    assert snapshot(issue) == before


def test_refunds_across_updates_cannot_pass_what_was_paid(api, agent, make_issue):
    issue = make_issue(status="open")
    ok = api(agent).patch(
        url(issue), {"refund_amount": 30, "refund_source": "store_credit", "updated_by": "emp_cs_001"}, format="json"
    )
    assert ok.status_code == 200
    assert ok.json()["refund_processed"] is True
    assert ok.json()["updated_fields"] == ["refund_amount", "refund_source"]
    too_much = api(agent).patch(
        url(issue), {"refund_amount": 10.01, "refund_source": "merchant", "updated_by": "emp_cs_001"}, format="json"
    )
    assert too_much.status_code == 422
    assert too_much.json()["refundable_amount"] == 10.0


# ----------------------------------------------------------------------------- not found


def test_issue_of_another_order_is_not_found(api, agent, make_issue):
    from tests.factories import order_with_items

    issue = make_issue()
    other = order_with_items()
    response = api(agent).patch(
        f"/api/v1/orders/{other.order_id}/issues/{issue.issue_id}",
        {"priority": "low", "updated_by": "emp_cs_001"},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "ISSUE_NOT_FOUND"
    missing = api(agent).patch(
        f"/api/v1/orders/{issue.order.order_id}/issues/issue_nope",
        {"priority": "low", "updated_by": "emp_cs_001"},
        format="json",
    )
    assert missing.json()["error_code"] == "ISSUE_NOT_FOUND"


def test_unknown_order_is_order_not_found(api, agent, make_issue):
    issue = make_issue()
    response = api(agent).patch(
        f"/api/v1/orders/0000-0000-00000/issues/{issue.issue_id}",
        {"priority": "low", "updated_by": "emp_cs_001"},
        format="json",
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "ORDER_NOT_FOUND"


# ----------------------------------------------------------------------------- notifications


def test_critical_priority_notifies_assignee_and_managers_after_commit(
    api, agent, other_agent, manager, other_manager, make_issue, django_capture_on_commit_callbacks
):
    # given: other_agent is assigned; agent raises the priority
    other_agent.email = "cs2@example.com"
    other_agent.save()
    issue = make_issue(assigned_to=other_agent, priority="high")
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(agent).patch(
            url(issue), {"priority": "critical", "notes": "VIP customer", "updated_by": "emp_cs_001"}, format="json"
        )
        assert mail.outbox == []  # nothing is sent inside the transaction
    # then
    assert response.status_code == 200
    rows = Notification.objects.filter(kind="critical_issue", issue=issue)
    assert set(rows.values_list("recipient__username", flat=True)) == {"emp_cs_002", "emp_mgr_001", "emp_mgr_002"}
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["cs2@example.com"]]  # the managers have no e-mail address
    assert Notification.objects.get(recipient=other_agent, kind="critical_issue").emailed_at is not None


def test_refused_update_sends_no_notification(api, agent, other_agent, make_issue, django_capture_on_commit_callbacks):
    issue = make_issue(assigned_to=other_agent, status="in_progress", priority="high")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api(agent).patch(
            url(issue),
            {"priority": "critical", "notes": "n", "status": "closed", "updated_by": "emp_cs_001"},
            format="json",
        )
    assert response.status_code == 409
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_assignment_to_someone_else_notifies_them(
    api, agent, other_agent, make_issue, django_capture_on_commit_callbacks
):
    issue = make_issue(assigned_to=agent)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(agent).patch(
            url(issue), {"assigned_to": "emp_cs_002", "updated_by": "emp_cs_001"}, format="json"
        )
    assert response.json()["updated_fields"] == ["assigned_to"]
    assert Notification.objects.get().recipient == other_agent
    assert OrderIssue.objects.get(pk=issue.pk).assigned_to == other_agent


def test_taking_an_issue_yourself_notifies_nobody(api, agent, other_agent, make_issue):
    issue = make_issue(assigned_to=other_agent)
    api(agent).patch(url(issue), {"assigned_to": "emp_cs_001", "updated_by": "emp_cs_001"}, format="json")
    assert not Notification.objects.exists()


@pytest.mark.parametrize(
    ("start", "target", "kind"), [("in_progress", "resolved", "issue_resolved"), ("resolved", "closed", "issue_closed")]
)
def test_resolving_or_closing_notifies_assignee_and_reporter(
    api, agent, other_agent, manager, make_issue, start, target, kind
):
    issue = make_issue(status=start, assigned_to=other_agent, actor=agent)
    response = api(manager).patch(
        url(issue), {"status": target, "notes": "done", "updated_by": "emp_mgr_001"}, format="json"
    )
    assert response.status_code == 200
    assert set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True)) == {
        "emp_cs_001",
        "emp_cs_002",
    }


# ----------------------------------------------------------------------------- audit and queries


def test_every_update_is_one_history_row_with_the_actor(api, agent, make_issue):
    issue = make_issue(status="open", priority="low")
    before = issue.history.count()
    api(agent).patch(
        url(issue),
        {"status": "investigating", "priority": "high", "notes": "why", "updated_by": "emp_cs_001"},
        format="json",
    )
    assert issue.history.count() == before + 1
    record = issue.history.first()
    assert (record.history_user, record.status, record.priority) == (agent, "investigating", "high")


def test_patch_query_count_is_pinned(api, agent, make_issue, django_assert_num_queries):
    issue = make_issue(status="in_progress", priority="medium")
    client = api(agent)
    body = {
        "status": "resolved",
        "notes": "Done",
        "resolution_description": "Replaced",
        "refund_amount": 5,
        "refund_source": "store_credit",
        "updated_by": "emp_cs_001",
    }
    # 18 (the order comes with the issue: no lookup first; the order's paid and refunded sums in one query), and
    # the webhook outbox: refund.created (order lock, row), issue.status_changed (issue, items, lock, row); and
    # the agent's refund limit, read with their role in one query (no limit set: nothing more is summed); the
    # order's revision moves with its refund (order update, order history row: issue 21's ETags). 25: the issue is
    # read once, locked, for not-found-first and the update alike, and its status event describes the saved issue
    # (its affected items read, not the issue again). 24: the caller's permissions in one query (its own and its
    # groups'); the agent's role read apart from their limit (its groups, once per request); refund.created takes
    # no order lock of its own (the refund holds it already).
    with django_assert_num_queries(24):
        response = client.patch(url(issue), body, format="json")
    assert response.status_code == 200


def test_not_found_comes_before_body_validation(api, agent, make_issue):
    issue = make_issue()
    response = api(agent).patch(
        f"/api/v1/orders/{issue.order.order_id}/issues/issue_nope", {"priority": "urgent"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["error_code"] == "ISSUE_NOT_FOUND"


def test_a_stale_if_match_is_refused_from_the_row_the_update_locked(api, agent, make_issue):
    """The API compares If-Match with the issue it read and locked for the update (no second read): a stale value
    is 412 and changes nothing, the current one goes through."""
    issue = make_issue(status="open", priority="low")
    client = api(agent)
    stale = client.get(url(issue))["ETag"]
    assert (
        client.patch(
            url(issue), {"priority": "medium", "notes": "Customer called", "updated_by": agent.username}, format="json"
        ).status_code
        == 200
    )
    refused = client.patch(
        url(issue),
        {"priority": "high", "notes": "Raised", "updated_by": agent.username},
        format="json",
        HTTP_IF_MATCH=stale,
    )
    assert refused.status_code == 412
    issue.refresh_from_db()
    assert issue.priority == "medium"
    assert not issue.notes.filter(body="Raised").exists()
    current = client.get(url(issue))["ETag"]
    accepted = client.patch(
        url(issue),
        {"priority": "high", "notes": "Raised", "updated_by": agent.username},
        format="json",
        HTTP_IF_MATCH=current,
    )
    assert accepted.status_code == 200
