"""Create, list, detail and history of issues; the cross-order queue."""

from datetime import timedelta

from django.utils import timezone

from issues.models import IssueNote, Notification, OrderIssue
from tests.factories import issue_factory, order_with_items
from tests.issues.conftest import url


def test_create_issue_with_items_and_first_note(api, agent, other_agent, order, django_capture_on_commit_callbacks):
    item = order.items.first()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(agent).post(
            f"/api/v1/orders/{order.order_id}/issues",
            {
                "issue_type": "damaged_item",
                "title": "Broken mug",
                "description": "Arrived in pieces",
                "order_item_ids": [str(item.order_item_id)],
                "assigned_to": "emp_cs_002",
                "notes": "Customer sent photos",
                "created_by": "emp_cs_001",
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["issue_id"].startswith("issue_")
    assert (body["status"], body["priority"], body["assigned_to"], body["created_by"]) == (
        "open",
        "medium",
        "emp_cs_002",
        "emp_cs_001",
    )
    assert body["order_item_ids"] == [str(item.order_item_id)]
    assert body["customer_satisfied"] is None
    assert [n["body"] for n in body["notes"]] == ["Customer sent photos"]
    issue = OrderIssue.objects.get(issue_id=body["issue_id"])
    assert issue.history.first().history_user == agent
    assert Notification.objects.get(kind="assigned").recipient == other_agent


def test_create_refuses_items_of_another_order(api, agent, order):
    other_item = order_with_items().items.first()
    response = api(agent).post(
        f"/api/v1/orders/{order.order_id}/issues",
        {"issue_type": "wrong_item", "title": "x", "order_item_ids": [str(other_item.order_item_id)]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["validation_errors"][0]["field"] == "order_item_ids"
    assert not OrderIssue.objects.exists()


def test_create_with_unknown_type_or_order(api, agent, order):
    bad = api(agent).post(
        f"/api/v1/orders/{order.order_id}/issues", {"issue_type": "lost", "title": "x"}, format="json"
    )
    assert bad.json()["error_code"] == "VALIDATION_ERROR"
    missing = api(agent).post(
        "/api/v1/orders/0000-0000-00000/issues", {"issue_type": "other", "title": "x"}, format="json"
    )
    assert missing.json()["error_code"] == "ORDER_NOT_FOUND"


def test_create_critical_notifies_managers(api, agent, manager, order):
    api(agent).post(
        f"/api/v1/orders/{order.order_id}/issues",
        {"issue_type": "quality", "title": "Mould", "priority": "critical"},
        format="json",
    )
    assert Notification.objects.get(kind="critical_issue").recipient == manager


def test_detail_and_order_list(api, agent, make_issue):
    issue = make_issue()
    detail = api(agent).get(url(issue))
    assert detail.status_code == 200
    assert detail.json()["issue_id"] == issue.issue_id
    listing = api(agent).get(f"/api/v1/orders/{issue.order.order_id}/issues")
    assert [row["issue_id"] for row in listing.json()["results"]] == [issue.issue_id]


def test_detail_of_an_issue_of_another_order_is_not_found(api, agent, make_issue):
    issue = make_issue()
    other = order_with_items()
    response = api(agent).get(f"/api/v1/orders/{other.order_id}/issues/{issue.issue_id}")
    assert response.status_code == 404
    assert response.json()["error_code"] == "ISSUE_NOT_FOUND"


def test_issue_queue_filters(api, agent, other_agent, order):
    now = timezone.now()
    due = issue_factory(
        order, assigned_to=agent, follow_up_required=True, follow_up_date=now - timedelta(hours=1), priority="high"
    )
    later = issue_factory(order, assigned_to=agent, follow_up_required=True, follow_up_date=now + timedelta(days=1))
    other = issue_factory(order_with_items(), assigned_to=other_agent, issue_type="billing", status="escalated")
    client = api(agent)

    def ids(query):
        response = client.get(f"/api/v1/issues?{query}")
        assert response.status_code == 200, response.json()
        return {row["issue_id"] for row in response.json()["results"]}

    assert ids("") == {due.issue_id, later.issue_id, other.issue_id}
    assert ids("follow_up_due=true") == {due.issue_id}
    assert ids("assigned_to=emp_cs_001&follow_up_due=true") == {due.issue_id}
    assert ids("assigned_to=emp_cs_002") == {other.issue_id}
    assert ids("assigned_to=me&follow_up_due=true") == {due.issue_id}
    assert ids("follow_up_due=false") == {later.issue_id, other.issue_id}
    assert ids("status=escalated") == {other.issue_id}
    assert ids("type=billing") == {other.issue_id}
    assert ids("priority=high") == {due.issue_id}
    assert client.get("/api/v1/issues?status=bogus").json()["error_code"] == "VALIDATION_ERROR"


def test_issue_list_query_count_does_not_grow(api, agent, django_assert_num_queries):
    order = order_with_items(items=3)
    items = list(order.items.all())
    client = api(agent)
    issue_factory(order, assigned_to=agent).affected_items.set(items)
    client.get("/api/v1/issues")  # warm the token/permission path the same way for both runs
    with django_assert_num_queries(5) as one:
        assert len(client.get("/api/v1/issues?page_size=30").json()["results"]) == 1
    for _ in range(29):
        issue_factory(order, assigned_to=agent, actor=agent).affected_items.set(items)
    with django_assert_num_queries(len(one)):
        assert len(client.get("/api/v1/issues?page_size=30").json()["results"]) == 30
    with django_assert_num_queries(6):  # + the order lookup
        client.get(f"/api/v1/orders/{order.order_id}/issues")


def test_history_has_status_timeline_and_field_changes(api, agent, manager, make_issue):
    issue = make_issue(status="open", priority="low")
    client = api(agent)
    client.patch(url(issue), {"status": "investigating", "notes": "Looking", "updated_by": "emp_cs_001"}, format="json")
    client.patch(url(issue), {"priority": "high", "notes": "Angry customer", "updated_by": "emp_cs_001"}, format="json")
    client.patch(url(issue), {"status": "in_progress", "updated_by": "emp_cs_001"}, format="json")
    response = client.get(url(issue, "/history"))
    assert response.status_code == 200
    body = response.json()
    assert [(t["from_status"], t["status"]) for t in body["timeline"]] == [
        (None, "open"),
        ("open", "investigating"),
        ("investigating", "in_progress"),
    ]
    assert body["timeline"][1]["changed_by"] == "emp_cs_001"
    priority = [c for c in body["changes"] if c["field"] == "priority"]
    assert priority == [
        {
            "field": "priority",
            "old_value": "low",
            "new_value": "high",
            "changed_by": "emp_cs_001",
            "changed_via": None,  # the agent's own credential, no service account between
            "changed_at": priority[0]["changed_at"],
        }
    ]
    assert [n["body"] for n in body["notes"]] == ["Looking", "Angry customer"]


def test_notes_are_append_only(make_issue, agent):
    import pytest

    issue = make_issue()
    note = IssueNote.objects.create(issue=issue, author=agent, body="first")
    note.body = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        note.save()


def test_anonymous_and_unprivileged_callers_are_refused(api, make_issue, db):
    from tests.factories import employee

    issue = make_issue()
    assert api(None).get("/api/v1/issues").json()["error_code"] == "AUTHENTICATION_REQUIRED"
    nobody = employee("svc_reader", "service")
    nobody.groups.clear()
    response = api(nobody).get("/api/v1/issues")
    assert response.status_code == 403
    assert "issues.view_orderissue" in response.json()["message"]
    assert api(nobody).patch(url(issue), {"priority": "low"}, format="json").status_code == 403
