"""Each daily task takes at most three interactions from the admin index (issue 23), in Debian's Chromium, on a
1280 px screen and on a 390 px phone.

How interactions are counted (``Steps``, which performs every interaction the tests make and counts it as it
goes, so a test cannot do more than it counts):

- the count starts on the admin index (``/admin/``), logged in, the page loaded;
- one **click** (a link, a tile, a button, a row's Approve) is one interaction;
- **typing into a field and pressing Enter** (the index's search box, a one-field form sent with Enter) is one;
- **filling a form field** (typing into it, or picking an option of a select) is one; a field left as the form
  offers it (its default, a choice it ticked for you) costs nothing;
- the click that sends a form counts (the Enter that ends the last typed field sends it within that one);
- waiting for a page, scrolling and reading are free.

The tasks: find an order by its id and by the customer's e-mail, open its issue, move the issue with a note (a
workflow step), record a refund, start an appeasement (goodwill credit), and, as a manager, approve a pending
request. Each test then checks the task's effect (the page it reached, the database row and its history row), so
none can pass by clicking nothing.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from appeasements.models import Appeasement, AppeasementReason, AppeasementState, RefundType
from config.permissions import sync_groups
from issues.models import ApprovalRequest, ApprovalState, IssueNote, IssueStatus, OrderIssue
from issues.services import issue_transition
from orders.models import Refund
from tests.e2e.test_daily_flow import log_in
from tests.factories import employee, issue_factory, order_with_items

pytestmark = pytest.mark.django_db(transaction=True)

MOST = 3  # interactions a daily task may take from the index
WIDTHS = (1280, 390)


class Steps:
    """Performs the interactions of one task, counting them (the module's docstring says what counts)."""

    def __init__(self, page, base: str):
        self.page = page
        self.count = 0
        page.goto(f"{base}{reverse('admin:index')}")
        page.wait_for_selector("#daily")

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.count += 1
        self.page.wait_for_load_state()

    def type_and_enter(self, selector: str, text: str) -> None:
        self.page.fill(selector, text)
        self.page.press(selector, "Enter")
        self.count += 1
        self.page.wait_for_load_state()

    def fill(self, selector: str, text: str) -> None:
        self.page.fill(selector, text)
        self.count += 1


@pytest.fixture
def desk(live_server, page):
    """An agent and a manager; a paid order (2 x 20.00) with an open issue about a damaged item, assigned to the
    agent; another issue whose escalation waits for the manager; the managed codes the goodwill form ticks."""
    sync_groups(django_apps)  # an earlier transactional test flushed the groups' permissions
    agent, manager = employee("emp_cs_001", "agent"), employee("emp_mgr_001", "manager")
    AppeasementReason.objects.get_or_create(code="itemArrivedDamaged", defaults={"description": "Item arrived damaged"})
    AppeasementReason.objects.get_or_create(code="goodwill", defaults={"description": "Goodwill gesture"})
    RefundType.objects.get_or_create(
        code="storeCredit", defaults={"description": "Store credit", "ledger_source": "store_credit"}
    )
    order = order_with_items(
        items=2, unit_price=Decimal("20.00"), status="completed", customer_email="dana.lee@example.com"
    )
    issue = issue_factory(order, assigned_to=agent, title="Blender arrived cracked", issue_type="damaged_item")
    other = issue_factory(order_with_items(), assigned_to=agent, title="Wrong colour", status=IssueStatus.IN_PROGRESS)
    issue_transition(issue=other, actor=agent, transition_name="escalate", notes="The customer wants a manager.")
    return {
        "base": live_server.url,
        "page": page,
        "agent": agent,
        "manager": manager,
        "order": order,
        "issue": issue,
        "escalation": ApprovalRequest.objects.get(issue=other, state=ApprovalState.PENDING),
    }


def at(desk, width: int, who: str):
    page = desk["page"]
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, desk["base"], desk[who].username)
    return page


def url_of(name: str, obj) -> str:
    return reverse(f"admin:{name}_change", args=[obj.pk])


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("by", ["order_id", "customer_email"])
def test_finding_an_order_takes_one_interaction(desk, width, by):
    page, order = at(desk, width, "agent"), desk["order"]
    steps = Steps(page, desk["base"])
    steps.type_and_enter("#order-q", getattr(order, by))
    page.wait_for_url(f"**{url_of('orders_order', order)}")
    assert steps.count <= MOST
    assert order.customer_email in page.locator("#content").inner_text()  # the order's page, not a list


@pytest.mark.parametrize("width", WIDTHS)
def test_opening_an_orders_issue_takes_two_interactions(desk, width):
    page, order, issue = at(desk, width, "agent"), desk["order"], desk["issue"]
    steps = Steps(page, desk["base"])
    steps.type_and_enter("#order-q", order.customer_email)
    steps.click(f"#content a[href='{url_of('issues_orderissue', issue)}']")  # the order page's issues
    page.wait_for_selector("#workspace-head")
    assert steps.count <= MOST
    assert page.url.endswith(url_of("issues_orderissue", issue))
    assert "Blender arrived cracked" in page.locator("#content").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_moving_an_issue_with_a_note_takes_three_interactions(desk, width):
    page, issue, agent = at(desk, width, "agent"), desk["issue"], desk["agent"]
    note = f"Asked the warehouse for the packing photos ({width} px)."
    steps = Steps(page, desk["base"])
    steps.type_and_enter("#order-q", issue.issue_id)
    steps.fill("#step-note", note)  # the note box beside the workflow's steps
    steps.click("button[name=_fsm_transition_to][value=investigate]")
    page.wait_for_selector("text=is now investigating")
    assert steps.count <= MOST
    # then: the move, its note and its history row
    issue.refresh_from_db()
    assert issue.status == IssueStatus.INVESTIGATING
    assert IssueNote.objects.filter(issue=issue, body=note, author=agent).exists()
    moved = issue.history.filter(status=IssueStatus.INVESTIGATING).order_by("history_date").last()
    assert moved.history_user == agent
    assert "moved it from Open to Investigating" in page.locator("#timeline").inner_text()


@pytest.mark.parametrize("width", WIDTHS)
def test_recording_a_refund_takes_three_interactions(desk, width):
    page, order, agent = at(desk, width, "agent"), desk["order"], desk["agent"]
    steps = Steps(page, desk["base"])
    steps.type_and_enter("#order-q", order.order_id)
    # on a wide screen the order's top buttons; on a phone they fold into a menu, and the money summary's is one tap
    steps.click("a[href$='/record-refund/']" if width >= 1024 else "#content a.bo-button[href$='/refund/']")
    steps.type_and_enter("#id_amount", "15.00")  # paid back the way the form offers (merchant), no reason needed
    page.wait_for_selector("text=of 15.00 USD recorded")
    assert steps.count <= MOST
    refund = Refund.objects.get(order=order)
    assert refund.amount == Decimal("15.00")
    assert refund.requested_by == agent
    assert refund.history.filter(history_type="+", history_user=agent).exists()


@pytest.mark.parametrize("width", WIDTHS)
def test_starting_an_appeasement_takes_three_interactions(desk, width):
    page, order, issue, agent = at(desk, width, "agent"), desk["order"], desk["issue"], desk["agent"]
    steps = Steps(page, desk["base"])
    steps.type_and_enter("#order-q", issue.issue_id)
    steps.click("#link-appeasement")  # Goodwill credit, on the issue's workspace
    # the form ticks the reason the issue's type names and store credit; the note is optional
    steps.type_and_enter("#id_amount", "5.00")
    page.wait_for_selector("text=of 5.00 USD: submitted")
    assert steps.count <= MOST
    appeasement = Appeasement.objects.get(order=order)
    assert appeasement.issue == issue
    assert appeasement.agent == agent
    assert appeasement.reason.code == "itemArrivedDamaged"
    assert appeasement.state == AppeasementState.SUBMITTED  # 5.00 is within the policy (20% of 40.00)
    assert [(r.amount, r.refund_type.code) for r in appeasement.refunds.all()] == [(Decimal("5.00"), "storeCredit")]
    assert appeasement.history.filter(history_user=agent).exists()


@pytest.mark.parametrize("width", WIDTHS)
def test_approving_a_request_takes_three_interactions(desk, width):
    page, escalation, manager = at(desk, width, "manager"), desk["escalation"], desk["manager"]
    steps = Steps(page, desk["base"])
    steps.click(f"[data-approve='{escalation.approval_id}']")  # the index lists the requests waiting longest
    steps.fill("textarea[name=note]", "Approved: send a replacement.")
    steps.click("#transition-form [type=submit]")
    page.wait_for_selector("text=approved")
    assert steps.count <= MOST
    escalation.refresh_from_db()
    assert escalation.state == ApprovalState.APPROVED
    assert escalation.decided_by == manager
    assert escalation.history.filter(state=ApprovalState.APPROVED, history_user=manager).exists()
    assert OrderIssue.objects.get(pk=escalation.issue_id).status == IssueStatus.ESCALATED
