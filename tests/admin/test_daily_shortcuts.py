"""What keeps every daily task within three interactions of the index (issue 23; the browser counts them in
tests/e2e/test_daily_tasks.py): the index's search opens the one match, a workflow step pressed with a note is
taken at once, the goodwill form ticks the usual choices, and a manager's index lists the requests waiting with
their Approve and Reject. Every write still goes through the services."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from appeasements.models import Appeasement, AppeasementReason, AppeasementState, RefundType
from issues.models import ApprovalRequest, ApprovalState, IssueNote, IssueStatus
from issues.services import issue_transition
from tests.admin.test_workspace import goodwill_form, issue_form, issue_url, transition_url
from tests.factories import issue_factory, order_with_items

pytestmark = pytest.mark.django_db

FIND = reverse("admin:orders_order_find")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --------------------------------------------------------------------------- the index's search


@pytest.mark.parametrize("by", ["order_id", "customer_email", "customer_phone"])
def test_the_search_opens_the_one_order_it_finds(agent, by):
    order = order_with_items(customer_email="dana.lee@example.com", customer_phone="555-0100")
    order_with_items(customer_email="someone.else@example.com", customer_phone="555-0199")
    response = logged_in(agent).get(FIND, {"q": f"  {getattr(order, by)} "})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:orders_order_change", args=[order.pk])


def test_the_search_opens_the_issue_an_issue_id_names(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    response = logged_in(agent).get(FIND, {"q": issue.issue_id.upper()})  # ids are matched case-insensitively
    assert response["Location"] == issue_url(issue)


def test_several_matches_or_none_show_the_list_of_that_search(agent):
    for _ in range(2):
        order_with_items(customer_email="twice@example.com")
    client = logged_in(agent)
    orders = reverse("admin:orders_order_changelist")
    assert client.get(FIND, {"q": "twice@example.com"})["Location"] == f"{orders}?q=twice%40example.com"
    assert client.get(FIND, {"q": "nobody@example.com"})["Location"] == f"{orders}?q=nobody%40example.com"
    issues = reverse("admin:issues_orderissue_changelist")
    assert client.get(FIND, {"q": "issue_nothing"})["Location"] == f"{issues}?q=issue_nothing"
    assert client.get(FIND, {"q": ""})["Location"] == orders
    assert client.get(FIND, {"q": "x\x00y"})["Location"] == f"{orders}?q=x%00y"  # matches nothing, no 500


def test_the_index_searches_through_it(agent):
    body = logged_in(agent).get(reverse("admin:index")).content.decode()
    assert f'action="{FIND}"' in body
    assert "Order id, issue id, customer e-mail or phone" in body


# --------------------------------------------------------------------------- a step with its note


def test_a_step_pressed_with_a_note_is_taken_at_once_with_the_note(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    data = {**issue_form(issue), "_fsm_transition_to": "investigate", "_step_note": "Asked the warehouse."}
    response = logged_in(agent).post(issue_url(issue), data)
    assert response["Location"] == issue_url(issue)
    issue.refresh_from_db()
    assert issue.status == IssueStatus.INVESTIGATING
    assert IssueNote.objects.filter(issue=issue, body="Asked the warehouse.", author=agent).exists()
    assert issue.history.filter(status=IssueStatus.INVESTIGATING, history_user=agent).exists()


def test_a_step_without_a_note_still_opens_its_short_form(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    data = {**issue_form(issue), "_fsm_transition_to": "investigate", "_step_note": "  "}
    response = logged_in(agent).post(issue_url(issue), data)
    assert response["Location"] == transition_url(issue, "investigate")
    issue.refresh_from_db()
    assert issue.status == IssueStatus.OPEN


def test_an_escalation_with_its_note_asks_a_manager_at_once(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent, status=IssueStatus.IN_PROGRESS)
    data = {**issue_form(issue), "_fsm_transition_to": "escalate", "_step_note": "The customer wants a manager."}
    logged_in(agent).post(issue_url(issue), data)
    approval = ApprovalRequest.objects.get(issue=issue)
    assert approval.state == ApprovalState.PENDING
    assert approval.reason == "The customer wants a manager."
    issue.refresh_from_db()
    assert issue.status == IssueStatus.IN_PROGRESS  # a manager decides


def test_a_refused_step_with_a_note_says_where_the_issue_can_go(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent, status=IssueStatus.IN_PROGRESS)
    data = {**issue_form(issue), "_fsm_transition_to": "back_to_open", "_step_note": "Oops."}
    response = logged_in(agent).post(issue_url(issue), data, follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "This issue is In progress; it can go" in text
    issue.refresh_from_db()
    assert issue.status == IssueStatus.IN_PROGRESS


def test_a_note_written_beside_the_steps_and_saved_without_one_goes_to_the_timeline(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    data = {**issue_form(issue), "_continue": "", "_step_note": "Customer sent photos."}
    response = logged_in(agent).post(issue_url(issue), data)
    assert response["Location"] == issue_url(issue)
    assert IssueNote.objects.filter(issue=issue, body="Customer sent photos.", author=agent).exists()
    issue.refresh_from_db()
    assert issue.status == IssueStatus.OPEN


def test_the_note_box_sits_beside_the_steps(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    body = logged_in(agent).get(issue_url(issue)).content.decode()
    head = body[body.index('id="workspace-head"') : body.index('id="timeline"')]
    assert 'name="_step_note"' in head
    assert head.index('name="_step_note"') < head.index('name="_fsm_transition_to"')


# --------------------------------------------------------------------------- the order's refund and goodwill


def test_the_order_page_offers_a_refund_at_its_top(agent):
    order = order_with_items()
    client = logged_in(agent)
    body = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    action = reverse("admin:orders_order_record_refund", args=[order.pk])
    assert action in body
    assert client.get(action)["Location"] == reverse("admin:orders_order_refund", args=[order.pk])


@pytest.fixture
def managed_codes(db):
    reasons = {
        code: AppeasementReason.objects.get_or_create(code=code, defaults={"description": description})[0]
        for code, description in (("itemArrivedDamaged", "Item arrived damaged"), ("goodwill", "Goodwill gesture"))
    }
    credit = RefundType.objects.get_or_create(
        code="storeCredit", defaults={"description": "Store credit", "ledger_source": "store_credit"}
    )[0]
    return reasons, credit


def selected(form: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}".*?</select>', form, re.S).group()
    chosen = re.search(r'<option value="(\d+)" selected>', select)
    return chosen and chosen.group(1)


def test_the_goodwill_form_ticks_the_issues_reason_and_store_credit(agent, managed_codes):
    reasons, credit = managed_codes
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed")
    issue = issue_factory(order, assigned_to=agent, issue_type="damaged_item")
    client = logged_in(agent)
    url = reverse("admin:orders_order_appeasement", args=[order.pk])
    form = client.get(url + f"?issue={issue.pk}").content.decode()
    assert selected(form, "reason") == str(reasons["itemArrivedDamaged"].pk)
    assert selected(form, "refund_type") == str(credit.pk)
    from_the_order = client.get(url).content.decode()
    assert selected(from_the_order, "reason") == str(reasons["goodwill"].pk)  # no issue: a goodwill gesture


def test_the_goodwill_form_needs_no_note(agent, managed_codes):
    reasons, credit = managed_codes
    order = order_with_items(items=2, unit_price=Decimal("20.00"), status="completed")
    client = logged_in(agent)
    url, data = goodwill_form(client, order, reasons["goodwill"], credit)
    response = client.post(url, {**data, "amount": "5.00", "note": ""})
    assert response.status_code == 302
    assert Appeasement.objects.get(order=order).state == AppeasementState.SUBMITTED


# --------------------------------------------------------------------------- a manager's index


def test_a_managers_index_lists_the_requests_waiting_with_approve_and_reject(agent, manager, other_manager):
    order = order_with_items(customer_first_name="Dana", customer_last_name="Lee")
    asked = issue_factory(order, assigned_to=agent, status=IssueStatus.IN_PROGRESS)
    issue_transition(issue=asked, actor=agent, transition_name="escalate", notes="Wants a manager.")
    own = issue_factory(order_with_items(), assigned_to=manager, status=IssueStatus.IN_PROGRESS)
    mine = ApprovalRequest.objects.create(
        kind="escalation", issue=own, target_type="issue", target_id=own.issue_id, requested_by=manager,
        requested_status="escalated",
    )  # fmt: skip
    approval = ApprovalRequest.objects.get(issue=asked)
    body = logged_in(manager).get(reverse("admin:index")).content.decode()
    waiting = body[body.index('id="waiting"') :]
    waiting = waiting[: waiting.index("</section>")]
    for text in ("Escalation", order.order_id, "Dana Lee", "emp_cs_001", "Wants a manager."):
        assert text in waiting, text
    approve = reverse(
        "admin:issues_approvalrequest_transition", kwargs={"object_id": approval.pk, "transition_name": "approve"}
    )
    assert f'data-approve="{approval.approval_id}" href="{approve}"' in waiting
    assert f'data-approve="{mine.approval_id}"' not in waiting  # four eyes: another manager decides it
    assert f'data-approve="{mine.approval_id}"' in logged_in(other_manager).get(reverse("admin:index")).content.decode()
    assert 'id="waiting"' not in logged_in(agent).get(reverse("admin:index")).content.decode()


def test_a_managers_index_costs_the_same_for_one_request_and_many(agent, manager):
    client = logged_in(manager)
    counts = []
    for n in (1, 8):
        while ApprovalRequest.objects.filter(state=ApprovalState.PENDING).count() < n:
            issue = issue_factory(order_with_items(), assigned_to=agent, status=IssueStatus.IN_PROGRESS)
            issue_transition(issue=issue, actor=agent, transition_name="escalate", notes="Please.")
        client.get(reverse("admin:index"))
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("admin:index"))
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_a_note_written_in_the_admin_says_so_by_default(agent):
    issue = issue_factory(order_with_items(), assigned_to=agent)
    body = logged_in(agent).get(issue_url(issue)).content.decode()
    select = re.search(r'<select name="(\w+)-0-channel".*?</select>', body, re.S)
    assert select is not None
    assert re.search(r'<option value="admin" selected>Admin</option>', select.group(0))
