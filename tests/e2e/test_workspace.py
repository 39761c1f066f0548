"""The agent's workspace in a real browser (issue 23): every page an agent or a manager uses fits a 390 px phone and
a 1280 px screen, shows labels and not raw choice values, and each daily task starts from the index. Screenshots
go to test-results/e2e/<test>/; the README's daily-flow pictures are taken from these and copied to
test-results/screenshots/, and over docs/screenshots/ only with UPDATE_SCREENSHOTS=1 (tests/e2e/screenshots.py)."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from appeasements.models import Appeasement, AppeasementReason, RefundType
from config.permissions import sync_groups
from issues.models import ApprovalRequest, OrderIssue
from tests.e2e.screenshots import publish
from tests.e2e.test_daily_flow import log_in
from tests.factories import employee, issue_factory, order_with_items
from tests.plain_words import raw_choice_values, raw_values_in

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (390, 1280)
PICTURES = {  # the README's and docs/admin.md's pictures
    "01-index-1280": "index.png",
    "03-order-1280": "order.png",
    "04-issue-workspace-1280": "workspace.png",
    "04-issue-workspace-390": "workspace-phone.png",
    "07-appeasement-form-1280": "appeasement.png",
    "09b-manager-index-1280": "manager-index.png",
    "10-inbox-1280": "inbox.png",
    "13-dashboard-1280": "dashboard.png",
}


def visible_text(page) -> str:
    return page.evaluate("document.body.innerText")


def check_page(page, shots, name: str, raw: set[str]) -> None:
    """The page at both widths: no sideways scroll, no raw value in what it shows; a screenshot of each."""
    page.wait_for_load_state()
    assert "Server Error" not in page.title(), name
    assert "Server Error" not in visible_text(page)[:200], name
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(150)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"{name}: {scroll} px wide at {width}"
        shots(page, f"{name}-{width}")
    found = raw_values_in(visible_text(page), raw)
    assert not found, f"{name} shows raw values {found}"


def test_the_workspace_fits_every_screen_and_speaks_plainly(live_server, page, shots):
    sync_groups(django_apps)
    agent, manager = employee("emp_cs_001", "agent"), employee("emp_mgr_001", "manager")
    reason = AppeasementReason.objects.get_or_create(code="incorrectItem", defaults={"description": "Incorrect item"})[
        0
    ]
    credit = RefundType.objects.get_or_create(
        code="storeCredit", defaults={"description": "Store credit", "ledger_source": "store_credit"}
    )[0]
    order = order_with_items(
        items=3, unit_price=Decimal("20.00"), status="completed", customer_email="dana.lee@example.com",
        customer_first_name="Dana", customer_last_name="Lee",
    )  # fmt: skip
    issue = issue_factory(order, assigned_to=agent, title="Blender arrived cracked", issue_type="damaged_item")
    issue_factory(order, assigned_to=agent, title="Late delivery", issue_type="late_delivery")
    raw = raw_choice_values()
    assert {"in_progress", "store_credit", "damaged_item"} <= raw
    base = live_server.url

    # the agent: index -> the order (search: its one match) -> its issue
    log_in(page, base, agent.username)
    check_page(page, shots, "01-index", raw)
    page.fill("#order-q", "dana.lee@example.com")
    page.press("#order-q", "Enter")  # the one match opens
    page.wait_for_selector("text=Open an issue")
    check_page(page, shots, "03-order", raw)
    page.goto(f"{base}{reverse('admin:issues_orderissue_change', args=[issue.pk])}")
    page.wait_for_selector("#workspace-head")
    check_page(page, shots, "04-issue-workspace", raw)

    # moves it with a note (the first step the workflow suggests: the "a" key), then keyboard help
    page.set_viewport_size({"width": 1280, "height": 900})
    page.keyboard.press("?")
    assert page.locator("#keys-help").is_visible()
    shots(page, "05-keyboard-help")
    page.keyboard.press("Escape")
    page.click("button[name=_fsm_transition_to][value=investigate]")
    page.wait_for_selector("#transition-form")
    assert page.locator("#transition-cancel").is_visible()
    assert "Refundable" in page.locator("#transition-facts").inner_text()
    page.fill("textarea[name=notes]", "Asked the warehouse for the packing photos.")
    check_page(page, shots, "06-transition-form", raw)
    page.click("#transition-form [type=submit]")
    page.wait_for_selector("text=is now investigating")
    assert "moved it from Open to Investigating" in page.locator("#timeline").inner_text()

    # starts an appeasement from the issue (over policy: it goes to a manager)
    page.click("#link-appeasement")
    page.wait_for_selector("#policy-limit")
    page.select_option("#id_reason", value=str(reason.pk))
    page.select_option("#id_refund_type", value=str(credit.pk))
    page.fill("#id_amount", "30.00")
    page.fill("#id_note", "Sorry about the cracked jug.")
    check_page(page, shots, "07-appeasement-form", raw)
    page.click("#content-main [type=submit]")
    page.wait_for_selector("text=waits for a manager")
    appeasement = Appeasement.objects.get(order=order)
    assert appeasement.state == "PENDING_APPROVAL"

    # escalates with a note: the request replaces the button
    page.click("button[name=_fsm_transition_to][value=escalate]")
    page.fill("textarea[name=notes]", "Customer wants a replacement.")
    page.click("#transition-form [type=submit]")
    page.wait_for_selector("#pending-approvals")
    assert page.locator("button[value=escalate]").count() == 0
    check_page(page, shots, "08-escalation-waiting", raw)
    page.goto(f"{base}{reverse('admin:issues_orderissue_changelist')}?mine=open")
    check_page(page, shots, "09-my-open-issues", raw)
    page.set_viewport_size({"width": 1280, "height": 900})
    table, box = page.evaluate("[result_list.scrollWidth, result_list.parentElement.clientWidth]")
    assert table <= box, f"the issue list scrolls sideways at 1280 px ({table} > {box}): its key columns are hidden"

    # the manager: the inbox (sidebar count), approve from the row with a note
    log_in(page, base, manager.username)
    page.wait_for_selector("#waiting")  # the index lists the requests waiting longest
    check_page(page, shots, "09b-manager-index", raw)
    page.goto(f"{base}{reverse('admin:issues_approvalrequest_changelist')}?state__exact=pending")
    check_page(page, shots, "10-inbox", raw)
    page.set_viewport_size({"width": 1280, "height": 900})
    table, box = page.evaluate("[result_list.scrollWidth, result_list.parentElement.clientWidth]")
    assert table <= box, f"the inbox scrolls sideways at 1280 px ({table} > {box}): its row actions are hidden"
    escalation = ApprovalRequest.objects.get(issue=issue, kind="escalation")
    page.goto(f"{base}{reverse('admin:issues_approvalrequest_approve_from_list', args=[escalation.pk])}")
    page.fill("textarea[name=note]", "Approved: send a replacement.")
    check_page(page, shots, "11-approve-form", raw)
    page.click("#transition-form [type=submit]")
    page.wait_for_selector("text=approved")
    assert OrderIssue.objects.get(pk=issue.pk).status == "escalated"
    page.goto(f"{base}{reverse('admin:appeasements_appeasement_change', args=[appeasement.pk])}")
    page.wait_for_selector("text=Pending approval")
    check_page(page, shots, "12-appeasement", raw)
    page.goto(f"{base}{reverse('admin:issues_dashboard')}")
    page.wait_for_selector("#kpi-breach")
    links = page.locator("svg.chart a").count()
    assert links > 0  # the bars open the lists they count
    check_page(page, shots, "13-dashboard", raw)

    folder = Path(shots(page, "13-dashboard-1280")).parent
    publish({folder / f"{name}.png": picture for name, picture in PICTURES.items()})
