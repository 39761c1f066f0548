"""Refund outcomes are visible (issue 21, item 4): a refund the processor refuses shows on the issue (API and admin)
with its reason, its requester and the issue's assignee are told once each, and the PATCH answer names the refund
it initiated."""

from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from issues.models import Notification, NotificationKind
from orders.models import Refund, RefundLimit, RefundStatus
from tests.issues.conftest import url
from tests.issues.test_patch_api import SEED_RESPONSE_KEYS, seed_request

pytestmark = pytest.mark.django_db

FAILING = "orders.refund_processors.AlwaysFailingRefundProcessor"
DECLINED = "Declined by the payment provider"  # what the failing processor answers


@pytest.fixture
def failing(settings):
    settings.REFUND_PROCESSOR = FAILING


def refund_body(amount=5, source="merchant", who="emp_cs_001", **extra) -> dict:
    return {"refund_amount": amount, "refund_source": source, "updated_by": who, **extra}


def patch_refund(client, issue, capture, **body):
    """PATCH a refund and run what waits for the commit (the refund's processing, the e-mails)."""
    with capture(execute=True):
        response = client.patch(url(issue), refund_body(**body), format="json")
    return response


def approve(client, asked, capture):
    """A manager approves the refund request an over-the-limit PATCH opened, and its processing runs."""
    with capture(execute=True):
        response = client.post(
            f"/api/v1/approvals/{asked.json()['approval_request_id']}/approve", {"note": "OK"}, format="json"
        )
    assert response.status_code == 200, response.json()
    return response


def refund_failed_notifications():
    return list(Notification.objects.filter(kind=NotificationKind.REFUND_FAILED).select_related("recipient", "issue"))


# ----------------------------------------------------------------- the PATCH answer


def test_the_patch_answer_names_the_refund_it_initiated_and_keeps_every_seed_field(
    api, agent, make_issue, django_capture_on_commit_callbacks
):
    issue = make_issue(status="in_progress", priority="medium")
    with django_capture_on_commit_callbacks(execute=True):
        response = api(agent).patch(url(issue), seed_request(), format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == SEED_RESPONSE_KEYS | {"refund_id", "refund_status"}
    refund = Refund.objects.get(cause_id=issue.issue_id)
    assert body["refund_processed"] is True  # initiated: recorded and queued
    assert body["refund_id"] == refund.refund_id
    assert body["refund_status"] == "pending"  # as the update left it: processing runs after commit
    refund.refresh_from_db()
    assert refund.status == RefundStatus.COMPLETED  # ... and then it ran


def test_an_update_without_a_refund_answers_null_refund_fields(api, agent, make_issue):
    issue = make_issue(status="open")
    response = api(agent).patch(url(issue), {"priority": "low", "updated_by": "emp_cs_001"}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["refund_processed"], body["refund_id"], body["refund_status"]) == (False, None, None)


def test_a_refund_over_the_limit_answers_202_with_null_refund_fields(api, agent, make_issue):
    RefundLimit.objects.create(employee=agent, limit=Decimal("1.00"))
    issue = make_issue(status="in_progress")
    response = api(agent).patch(url(issue), refund_body(amount=5), format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["approval_kind"] == "refund"
    assert (body["refund_processed"], body["refund_id"], body["refund_status"]) == (False, None, None)
    assert not Refund.objects.exists()


def test_a_202_for_a_status_move_still_names_the_refund_made_within_the_limit(api, agent, make_issue):
    issue = make_issue(status="in_progress")
    response = api(agent).patch(
        url(issue), refund_body(amount=5, status="escalated", notes="Needs a manager"), format="json"
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["approval_kind"] == "escalation"
    refund = Refund.objects.get(cause_id=issue.issue_id)
    assert (body["refund_processed"], body["refund_id"], body["refund_status"]) == (True, refund.refund_id, "pending")


# ----------------------------------------------------------------- the issue GET and history


def test_a_failed_refund_shows_on_the_issue_with_its_reason(
    api, agent, make_issue, failing, django_capture_on_commit_callbacks
):
    issue = make_issue(status="in_progress")
    answer = patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=5)
    assert answer.status_code == 200, answer.json()
    assert answer.json()["refund_processed"] is True  # initiated, even though it then failed

    body = api(agent).get(url(issue)).json()
    [shown] = body["refunds"]
    refund = Refund.objects.get()
    assert shown == {
        "refund_id": answer.json()["refund_id"],
        "amount": 5.0,
        "currency": "USD",
        "source": "merchant",
        "status": "failed",
        "failure_reason": DECLINED,
        "requested_by": "emp_cs_001",
        "approved_by": None,
        "created_at": refund.created_at.isoformat().replace("+00:00", "Z"),
        "processed_at": refund.processed_at.isoformat().replace("+00:00", "Z"),
    }
    history = api(agent).get(url(issue, "/history")).json()
    assert history["refunds"] == body["refunds"]


def test_the_issue_lists_each_refund_oldest_first_with_its_own_status(
    api, agent, make_issue, settings, django_capture_on_commit_callbacks
):
    issue = make_issue(status="in_progress")
    client = api(agent)
    patch_refund(client, issue, django_capture_on_commit_callbacks, amount=3)  # completes
    settings.REFUND_PROCESSOR = FAILING
    patch_refund(client, issue, django_capture_on_commit_callbacks, amount=4)  # fails
    patch_refund(client, issue, django_capture_on_commit_callbacks, amount=2, source="store_credit")  # at once
    pending = client.patch(url(issue), refund_body(amount=1), format="json")  # processing never ran
    body = client.get(url(issue)).json()
    rows = [(r["amount"], r["source"], r["status"], r["failure_reason"]) for r in body["refunds"]]
    assert rows == [
        (3.0, "merchant", "completed", ""),
        (4.0, "merchant", "failed", DECLINED),
        (2.0, "store_credit", "completed", ""),
        (1.0, "merchant", "pending", ""),
    ]
    assert body["refunds"][-1]["refund_id"] == pending.json()["refund_id"]
    assert body["refunds"][-1]["processed_at"] is None
    assert all(r["processed_at"] for r in body["refunds"][:3])


def test_another_issues_refunds_are_not_listed(api, agent, make_issue, django_capture_on_commit_callbacks):
    issue, other = make_issue(status="in_progress"), make_issue(status="in_progress")
    patch_refund(api(agent), other, django_capture_on_commit_callbacks, amount=3)
    assert api(agent).get(url(issue)).json()["refunds"] == []
    assert api(agent).get(url(issue, "/history")).json()["refunds"] == []


def test_an_approved_refund_names_the_manager_who_approved_it(
    api, agent, manager, make_issue, django_capture_on_commit_callbacks
):
    RefundLimit.objects.create(employee=agent, limit=Decimal("1.00"))
    issue = make_issue(status="in_progress")
    asked = api(agent).patch(url(issue), refund_body(amount=5), format="json")
    approve(api(manager), asked, django_capture_on_commit_callbacks)
    [shown] = api(agent).get(url(issue)).json()["refunds"]
    assert (shown["requested_by"], shown["approved_by"], shown["status"]) == ("emp_cs_001", "emp_mgr_001", "completed")


def test_a_new_issue_answers_with_no_refunds(api, agent, order):
    response = api(agent).post(
        f"/api/v1/orders/{order.order_id}/issues", {"issue_type": "wrong_item", "title": "Wrong"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["refunds"] == []


def _queries(client, path) -> int:
    client.get(path)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_the_issue_detail_and_history_read_the_refunds_in_one_query_whatever_their_number(
    api, agent, manager, make_issue, settings, django_capture_on_commit_callbacks
):
    issue = make_issue(status="in_progress")
    client = api(agent)
    patch_refund(client, issue, django_capture_on_commit_callbacks, amount=1)
    before = {path: _queries(client, url(issue, path)) for path in ("", "/history")}
    # Pinned: 8 as before (token+user, user and group permissions, the order lookup, the issue with its order,
    # assignee and creator, its items, notes, pending approvals) + the refunds: one query (issue 21, item 4);
    # the history reads the issue's history rows besides.
    assert before == {"": 8, "/history": 9}
    settings.REFUND_PROCESSOR = FAILING
    for _ in range(5):
        patch_refund(client, issue, django_capture_on_commit_callbacks, amount=1)
    RefundLimit.objects.create(employee=agent, limit=Decimal("0.00"))
    asked = client.patch(url(issue), refund_body(amount=1), format="json")
    approve(api(manager), asked, django_capture_on_commit_callbacks)
    assert len(client.get(url(issue)).json()["refunds"]) == 7
    assert {path: _queries(client, url(issue, path)) for path in ("", "/history")} == before


# ----------------------------------------------------------------- notifications


def test_a_failed_refund_notifies_the_assignee_and_the_requester_once_each(
    api, agent, other_agent, make_issue, failing, django_capture_on_commit_callbacks
):
    for person, address in ((agent, "cs1@example.com"), (other_agent, "cs2@example.com")):
        person.email = address
        person.save()
    issue = make_issue(status="in_progress", assigned_to=other_agent)
    answer = patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=5)
    rows = refund_failed_notifications()
    assert sorted(n.recipient.username for n in rows) == ["emp_cs_001", "emp_cs_002"]
    refund_id = answer.json()["refund_id"]
    for row in rows:
        assert row.issue == issue
        assert refund_id in row.message
        assert DECLINED in row.message
        assert "5.00 USD" in row.message
    # e-mailed after commit, one each
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    subject = f"[{issue.issue_id}] Refund failed at the processor"
    assert sent == [("cs1@example.com", subject), ("cs2@example.com", subject)]


def test_the_assignee_who_asked_is_told_once(api, agent, make_issue, failing, django_capture_on_commit_callbacks):
    issue = make_issue(status="in_progress", assigned_to=agent)
    patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=5)
    assert [n.recipient for n in refund_failed_notifications()] == [agent]


def test_an_approved_refund_that_fails_tells_the_requester_and_the_assignee_not_the_manager(
    api, agent, other_agent, manager, make_issue, failing, django_capture_on_commit_callbacks
):
    RefundLimit.objects.create(employee=agent, limit=Decimal("1.00"))
    issue = make_issue(status="in_progress", assigned_to=other_agent)
    asked = api(agent).patch(url(issue), refund_body(amount=5), format="json")
    approve(api(manager), asked, django_capture_on_commit_callbacks)
    assert sorted(n.recipient.username for n in refund_failed_notifications()) == ["emp_cs_001", "emp_cs_002"]


def test_a_completed_refund_notifies_nobody(api, agent, other_agent, make_issue, django_capture_on_commit_callbacks):
    issue = make_issue(status="in_progress", assigned_to=other_agent)
    before = Notification.objects.count()
    patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=5)
    patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=2, source="store_credit")
    assert Refund.objects.filter(status=RefundStatus.COMPLETED).count() == 2
    assert Notification.objects.count() == before


def test_processing_a_failed_refund_again_notifies_nobody_again(
    api, agent, other_agent, make_issue, failing, django_capture_on_commit_callbacks
):
    from orders.services import refund_process, refunds_retry_stuck

    issue = make_issue(status="in_progress", assigned_to=other_agent)
    patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=5)
    refund = Refund.objects.get()
    assert refund_process(refund_pk=refund.pk) == RefundStatus.FAILED
    from datetime import timedelta

    assert refunds_retry_stuck(older_than=timedelta(0)) == 0
    assert len(refund_failed_notifications()) == 2


# ----------------------------------------------------------------- the admin's issue and order pages


def test_the_issue_and_order_pages_show_a_failed_refunds_reason(
    api, agent, manager, make_issue, failing, django_capture_on_commit_callbacks
):
    issue = make_issue(status="in_progress")
    answer = patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=5)
    client = Client()
    client.force_login(manager)
    page = client.get(reverse("admin:issues_orderissue_change", args=[issue.pk])).content.decode()
    table = page[page.index('id="issue-refunds"') :]
    table = table[: table.index("</table>")]
    assert "<th>Failure reason</th>" in table
    row = table[table.index(answer.json()["refund_id"]) :]
    row = row[: row.index("</tr>")]
    assert "failed" in row
    assert DECLINED in row
    timeline = page[page.index('id="timeline"') :]
    assert f"Failed at the processor: {DECLINED}" in timeline
    order_page = client.get(reverse("admin:orders_order_change", args=[issue.order.pk])).content.decode()
    refunds = order_page[order_page.index(answer.json()["refund_id"]) :]
    assert DECLINED in refunds[: refunds.index("</tr>")]


def test_the_issue_page_reads_no_more_for_failed_refunds(
    api, agent, manager, make_issue, settings, django_capture_on_commit_callbacks
):
    issue = make_issue(status="in_progress")
    patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=1)
    client = Client()
    client.force_login(manager)
    pages = [
        reverse("admin:issues_orderissue_change", args=[issue.pk]),
        reverse("admin:orders_order_change", args=[issue.order.pk]),
    ]
    before = [_queries(client, page) for page in pages]
    settings.REFUND_PROCESSOR = FAILING
    for _ in range(3):
        patch_refund(api(agent), issue, django_capture_on_commit_callbacks, amount=1)
    assert [_queries(client, page) for page in pages] == before
