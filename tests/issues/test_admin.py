"""The issue admin: changelist, transitions through the services, notes, refunds, approvals."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from issues.models import ApprovalRequest, IssueNote, Notification, OrderIssue
from orders.models import Refund
from tests.factories import issue_factory, order_with_items


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def change_url(issue):
    return reverse("admin:issues_orderissue_change", args=[issue.pk])


def transition_url(issue, name):
    return reverse("admin:issues_orderissue_transition", kwargs={"object_id": issue.pk, "transition_name": name})


def test_changelist_renders_with_filters_and_a_fixed_query_count(manager, agent, django_assert_num_queries):
    order = order_with_items()
    issue_factory(order, assigned_to=agent, follow_up_required=True)
    client = logged_in(manager)
    url = reverse("admin:issues_orderissue_changelist")
    client.get(url)
    with django_assert_num_queries(5 + 1) as one:  # + the sidebar's badges (desk.sidebar.sidebar_facts)
        response = client.get(url)
    assert response.status_code == 200
    for _ in range(29):
        issue_factory(order, assigned_to=agent)
    with django_assert_num_queries(len(one)):
        response = client.get(url)
    assert response.content.count(b'class="action-checkbox ') == 30  # django-unfold's cell: its classes follow
    queries = ["mine=1", "follow_up=due", "escalation=escalated", "escalation=requested", "status=open"]
    queries += ["priority=medium", "issue_type=wrong_item", f"q={order.order_id}", f"q={order.customer_email}"]
    for query in queries:
        assert client.get(f"{url}?{query}").status_code == 200, query


def test_search_by_issue_id(manager, make_issue):
    issue, other = make_issue(), make_issue()
    response = logged_in(manager).get(reverse("admin:issues_orderissue_changelist"), {"q": issue.issue_id})
    assert issue.issue_id.encode() in response.content
    assert other.issue_id.encode() not in response.content


def test_change_page_shows_only_the_transitions_the_user_may_take(agent, manager, make_issue):
    issue = make_issue(status="resolved")
    agent_page = logged_in(agent).get(change_url(issue)).content.decode()
    assert 'value="start_work"' in agent_page
    assert 'value="escalate"' in agent_page  # an agent may ask for it
    assert 'value="close"' not in agent_page
    manager_page = logged_in(manager).get(change_url(issue)).content.decode()
    assert 'value="close"' in manager_page
    escalated = make_issue(status="escalated")
    assert 'value="resolve"' not in logged_in(agent).get(change_url(escalated)).content.decode()
    assert 'value="resolve"' in logged_in(manager).get(change_url(escalated)).content.decode()


def test_transition_form_applies_through_the_service(agent, make_issue):
    issue = make_issue(status="open")
    client = logged_in(agent)
    assert client.get(transition_url(issue, "investigate")).status_code == 200
    response = client.post(transition_url(issue, "investigate"), {"notes": "Checking the warehouse"})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == "investigating"
    assert IssueNote.objects.get(issue=issue).channel == "admin"
    assert issue.history.first().history_user == agent


def test_resolving_without_notes_is_refused_in_the_admin(agent, make_issue):
    issue = make_issue(status="in_progress")
    response = logged_in(agent).post(transition_url(issue, "resolve"), {"notes": ""}, follow=True)
    assert "Required when changing status to resolved" in response.content.decode()
    issue.refresh_from_db()
    assert issue.status == "in_progress"


def test_agent_escalation_in_the_admin_creates_a_request_shown_on_the_page(agent, make_issue):
    issue = make_issue(status="in_progress")
    client = logged_in(agent)
    response = client.post(transition_url(issue, "escalate"), {"notes": "Needs a manager"}, follow=True)
    approval = ApprovalRequest.objects.get()
    assert "waits for a manager" in response.content.decode()
    assert OrderIssue.objects.get(pk=issue.pk).status == "in_progress"
    page = client.get(change_url(issue)).content.decode()
    assert 'id="pending-approvals"' in page
    assert approval.approval_id in page


def test_edit_form_goes_through_issue_update(agent, other_agent, make_issue):
    issue = make_issue(status="open", priority="medium")
    client = logged_in(agent)
    page = client.get(change_url(issue))
    assert page.status_code == 200
    data = {
        "priority": "high",
        "assigned_to": other_agent.pk,
        "resolution_description": "",
        "customer_satisfied": "unknown",
        "follow_up_date_0": "",
        "follow_up_date_1": "",
        "notes": "Customer called twice",
        "notes-TOTAL_FORMS": "1",
        "notes-INITIAL_FORMS": "0",
        "notes-MIN_NUM_FORMS": "0",
        "notes-MAX_NUM_FORMS": "1000",
        "notes-0-kind": "customer_contact",
        "notes-0-channel": "phone",
        "notes-0-body": "Called the customer back",
        "notes-0-issue": issue.pk,
    }
    response = client.post(change_url(issue), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    issue.refresh_from_db()
    assert (issue.priority, issue.assigned_to) == ("high", other_agent)
    bodies = list(IssueNote.objects.filter(issue=issue).values_list("body", "kind", "channel"))
    assert bodies == [
        ("Customer called twice", "internal", "admin"),
        ("Called the customer back", "customer_contact", "phone"),
    ]
    assert Notification.objects.get(kind="assigned").recipient == other_agent


def test_raising_priority_without_notes_in_the_admin_changes_nothing(agent, make_issue):
    issue = make_issue(priority="low")
    data = {
        "priority": "critical",
        "assigned_to": agent.pk,
        "resolution_description": "",
        "customer_satisfied": "unknown",
        "notes": "",
        "notes-TOTAL_FORMS": "0",
        "notes-INITIAL_FORMS": "0",
        "notes-MIN_NUM_FORMS": "0",
        "notes-MAX_NUM_FORMS": "1000",
    }
    response = logged_in(agent).post(change_url(issue), data, follow=True)
    assert "Required to justify raising the priority" in response.content.decode()
    assert OrderIssue.objects.get(pk=issue.pk).priority == "low"


def test_refund_form_calls_the_ledger(agent, make_issue):
    issue = make_issue()
    client = logged_in(agent)
    url = reverse("admin:issues_orderissue_refund", args=[issue.pk])
    assert client.get(url).status_code == 200
    too_much = client.post(url, {"amount": "100.00", "source": "merchant", "notes": "all of it", "form_key": "k1"})
    assert "exceeds the refundable amount" in too_much.content.decode()
    response = client.post(url, {"amount": "12.50", "source": "merchant", "notes": "Partial refund", "form_key": "k1"})
    assert response.status_code == 302
    refund = Refund.objects.get()
    assert (refund.amount, refund.cause_id) == (Decimal("12.50"), issue.issue_id)
    assert refund.refund_id in client.get(change_url(issue)).content.decode()


def test_bulk_assign_to_me(manager, agent, make_issue):
    issues = [make_issue(assigned_to=agent) for _ in range(3)]
    response = logged_in(manager).post(
        reverse("admin:issues_orderissue_changelist"),
        {"action": "assign_to_me", "_selected_action": [i.pk for i in issues]},
    )
    assert response.status_code == 302
    assert set(OrderIssue.objects.values_list("assigned_to__username", flat=True)) == {"emp_mgr_001"}


def test_history_page_shows_diffs(agent, make_issue, api):
    issue = make_issue(priority="low")
    api(agent).patch(
        f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}",
        {"priority": "high", "notes": "why", "updated_by": "emp_cs_001"},
        format="json",
    )
    page = logged_in(agent).get(reverse("admin:issues_orderissue_history", args=[issue.pk])).content.decode()
    assert "priority" in page
    assert "emp_cs_001" in page


def test_notes_cannot_be_edited_in_the_admin(agent, make_issue):
    issue = make_issue()
    note = IssueNote.objects.create(issue=issue, author=agent, body="original")
    page = logged_in(agent).get(change_url(issue)).content.decode()
    # the existing note is read-only: shown in the timeline, in no form field (the one note field is the new note's,
    # the note box at the timeline's head: issue 23)
    assert not re.search(r"<textarea[^>]*>\s*original", page)
    assert not re.search(rf'name="notes-\d+-id" value="{note.pk}"', page)
    assert "original" in page[page.index('id="timeline"') :]


@pytest.fixture
def pending(api, agent, make_issue):
    issue = make_issue(status="in_progress")
    api(agent).patch(
        f"/api/v1/orders/{issue.order.order_id}/issues/{issue.issue_id}",
        {"status": "escalated", "updated_by": "emp_cs_001"},
        format="json",
    )
    return ApprovalRequest.objects.get()


def test_approval_queue_pending_first_and_approve_with_a_note(manager, pending, make_issue):
    decided = ApprovalRequest.objects.create(
        kind="reopen", target_type="issue", target_id="issue_x", requested_by=manager, requested_status="open"
    )
    ApprovalRequest.objects.filter(pk=decided.pk).update(state="rejected")
    client = logged_in(manager)
    listing = client.get(reverse("admin:issues_approvalrequest_changelist")).content.decode()
    assert listing.index(pending.approval_id) < listing.index(decided.approval_id)

    change = reverse("admin:issues_approvalrequest_change", args=[pending.pk])
    assert 'value="approve"' in client.get(change).content.decode()
    url = reverse(
        "admin:issues_approvalrequest_transition", kwargs={"object_id": pending.pk, "transition_name": "approve"}
    )
    assert client.post(url, {"note": ""}).status_code == 200  # the note is required: the form comes back
    response = client.post(url, {"note": "Go ahead"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.state, pending.decided_by, pending.decision_note) == ("approved", manager, "Go ahead")
    assert OrderIssue.objects.get(pk=pending.issue_id).status == "escalated"


def test_requester_sees_no_decision_buttons(agent, pending):
    from django.contrib.auth.models import Permission

    agent.user_permissions.add(
        *Permission.objects.filter(codename__in=["decide_approvalrequest", "change_approvalrequest"])
    )
    page = logged_in(agent).get(reverse("admin:issues_approvalrequest_change", args=[pending.pk])).content.decode()
    assert 'value="approve"' not in page


def test_notifications_admin_lists_own_notifications(agent, manager, pending):
    page = logged_in(manager).get(reverse("admin:issues_notification_changelist"))
    assert page.status_code == 200
    assert b"escalation" in page.content.lower()
    assert Notification.objects.filter(recipient=manager).exists()
    assert logged_in(agent).get(reverse("admin:issues_notification_changelist")).status_code == 200


def test_add_issue_in_the_admin(agent, order):
    client = logged_in(agent)
    url = reverse("admin:issues_orderissue_add")
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"order": order.pk, "issue_type": "late_delivery", "title": "Late", "priority": "medium", "notes": "Called in"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    issue = OrderIssue.objects.get()
    assert (issue.created_by, issue.issue_type) == (agent, "late_delivery")
    assert IssueNote.objects.get(issue=issue).body == "Called in"


def _section(html: str, marker: str) -> str:
    """The markup from ``marker`` to the end of the first table after it."""
    start = html.index(marker)
    return html[start : html.index("</table>", start)]


def test_issue_page_lists_its_refunds_oldest_first_and_only_the_approvals_still_waiting(manager, pending):
    """The refunds table and the 'Waiting for a manager' box are built from the timeline's own reads."""
    from orders.services import refund_record

    issue = OrderIssue.objects.select_related("order").get(pk=pending.issue_id)
    first, second = (
        refund_record(
            order=issue.order,
            actor=manager,
            amount=Decimal(amount),
            source="merchant",
            cause_type="issue",
            cause_id=issue.issue_id,
        )
        for amount in ("1.00", "2.00")
    )
    decided = ApprovalRequest.objects.create(
        kind="reopen",
        issue=issue,
        target_type="issue",
        target_id=issue.issue_id,
        requested_by=manager,
        requested_status="open",
    )
    ApprovalRequest.objects.filter(pk=decided.pk).update(state="rejected")
    page = logged_in(manager).get(change_url(issue)).content.decode()

    waiting = _section(page, 'id="pending-approvals"')
    assert pending.approval_id in waiting
    assert decided.approval_id not in waiting
    assert decided.approval_id in _section(page, 'id="timeline"')  # asked and decided: in the timeline
    refunds = _section(page, 'id="issue-refunds"')
    assert first.refund_id in refunds
    assert second.refund_id in refunds
    assert refunds.index(first.refund_id) < refunds.index(second.refund_id)
